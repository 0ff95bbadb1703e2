"""PostHog's capture paths on the tenant's host, so its SDKs work when given this host."""

from django.urls import re_path

from .api.views import CaptureView

app_name = "analytics"

capture = CaptureView.as_view()

urlpatterns = [
    re_path(r"^(?:capture|batch|e|track|engage|i/v0/e)/?$", capture, name="posthog-capture"),
]
