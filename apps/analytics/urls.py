"""PostHog's capture paths on the tenant's host, so its SDKs work when given this host; and the
analytics pages under analytics/ (the app's url_prefix is "" for the capture paths)."""

from django.urls import path, re_path

from .api.views import CaptureView
from .views import cohorts, dashboards, events, insights, keys, persons, reports

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
    # Insights (views/insights.py)
    path("analytics/insights/", insights.insight_list, name="insights"),
    path("analytics/insights/new/<slug:kind>/", insights.insight_new, name="insight_new"),
    path("analytics/insights/<int:pk>/", insights.insight_detail, name="insight"),
    path("analytics/insights/<int:pk>/delete/", insights.insight_delete, name="insight_delete"),
    path("analytics/insights/<int:pk>/add-to-dashboard/", insights.insight_to_dashboard, name="insight_to_dashboard"),
    # Dashboards (views/dashboards.py)
    path("analytics/dashboards/", dashboards.dashboard_list, name="dashboards"),
    path("analytics/dashboards/<int:pk>/", dashboards.dashboard_detail, name="dashboard"),
    path("analytics/dashboards/<int:pk>/layout/", dashboards.dashboard_layout, name="dashboard_layout"),
    path("analytics/dashboards/<int:pk>/settings/", dashboards.dashboard_settings, name="dashboard_settings"),
    path("analytics/dashboards/<int:pk>/share/", dashboards.dashboard_share, name="dashboard_share"),
    path("analytics/dashboards/<int:pk>/delete/", dashboards.dashboard_delete, name="dashboard_delete"),
    path("analytics/dashboards/<int:pk>/tiles/", dashboards.tile_add, name="dashboard_tile_add"),
    path("analytics/dashboards/<int:pk>/tiles/<int:tile_pk>/", dashboards.dashboard_tile, name="dashboard_tile"),
    path(
        "analytics/dashboards/<int:pk>/tiles/<int:tile_pk>/remove/",
        dashboards.tile_remove,
        name="dashboard_tile_remove",
    ),
    path("analytics/shared/<str:token>/", dashboards.dashboard_shared, name="dashboard_shared"),
    path(
        "analytics/shared/<str:token>/tiles/<int:tile_pk>/",
        dashboards.dashboard_shared_tile,
        name="dashboard_shared_tile",
    ),
    path("analytics/reports/", reports.report_list, name="reports"),
    path("analytics/reports/jobs/<int:pk>/", reports.report_job, name="report_job"),
    path("analytics/reports/jobs/<int:pk>/delete/", reports.report_job_delete, name="report_job_delete"),
    path("analytics/reports/download/<str:token>/", reports.download, name="report_download"),
    path("analytics/reports/scheduled/", reports.scheduled_list, name="scheduled"),
    path("analytics/reports/scheduled/<int:pk>/", reports.scheduled_edit, name="scheduled_edit"),
    path("analytics/reports/scheduled/<int:pk>/delete/", reports.scheduled_delete, name="scheduled_delete"),
    path("analytics/bi/", reports.bi_page, name="bi"),
]
