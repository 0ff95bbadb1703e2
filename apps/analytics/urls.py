"""PostHog's capture paths on the tenant's host, so its SDKs work when given this host; and the
analytics pages under analytics/ (the app's url_prefix is "" for the capture paths)."""

from django.urls import path, re_path

from .api.views import CaptureView
from .views import cohorts, events, keys, persons

app_name = "analytics"

capture = CaptureView.as_view()

urlpatterns = [
    re_path(r"^(?:capture|batch|e|track|engage|i/v0/e)/?$", capture, name="posthog-capture"),
    path("analytics/cohorts/", cohorts.cohort_list, name="cohorts"),
    path("analytics/cohorts/new/", cohorts.cohort_new, name="cohort_new"),
    path("analytics/cohorts/<int:pk>/", cohorts.cohort_detail, name="cohort"),
    path("analytics/cohorts/<int:pk>/<str:action>/", cohorts.cohort_action, name="cohort_action"),
    path("analytics/keys/", keys.project_keys, name="keys"),
    path("analytics/keys/<int:pk>/revoke/", keys.project_key_revoke, name="key_revoke"),
    path("analytics/keys/page-views/", keys.page_views, name="page_views"),
    path("analytics/events/", events.live_events, name="events"),
    path("analytics/persons/", persons.persons, name="persons"),
    path("analytics/persons/<uuid:uuid>/", persons.person, name="person"),
]
