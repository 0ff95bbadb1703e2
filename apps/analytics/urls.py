"""PostHog's capture paths on the tenant's host, so its SDKs work when given this host; the
analytics pages under analytics/."""

from django.urls import path, re_path

from .api.views import CaptureView
from .views import cohorts

app_name = "analytics"

capture = CaptureView.as_view()

urlpatterns = [
    re_path(r"^(?:capture|batch|e|track|engage|i/v0/e)/?$", capture, name="posthog-capture"),
    path("analytics/cohorts/", cohorts.cohort_list, name="cohorts"),
    path("analytics/cohorts/new/", cohorts.cohort_new, name="cohort_new"),
    path("analytics/cohorts/<int:pk>/", cohorts.cohort_detail, name="cohort"),
    path("analytics/cohorts/<int:pk>/<str:action>/", cohorts.cohort_action, name="cohort_action"),
]
