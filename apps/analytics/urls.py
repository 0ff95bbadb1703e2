"""PostHog's capture paths on the tenant's host, so its SDKs work when given this host; and the
analytics pages under analytics/ (reports, exports, scheduled reports, BI access)."""

from django.urls import path, re_path

from .api.views import CaptureView
from .views import reports

app_name = "analytics"

capture = CaptureView.as_view()

urlpatterns = [
    re_path(r"^(?:capture|batch|e|track|engage|i/v0/e)/?$", capture, name="posthog-capture"),
    path("analytics/reports/", reports.report_list, name="reports"),
    path("analytics/reports/jobs/<int:pk>/", reports.report_job, name="report_job"),
    path("analytics/reports/jobs/<int:pk>/delete/", reports.report_job_delete, name="report_job_delete"),
    path("analytics/reports/download/<str:token>/", reports.download, name="report_download"),
    path("analytics/reports/scheduled/", reports.scheduled_list, name="scheduled"),
    path("analytics/reports/scheduled/<int:pk>/", reports.scheduled_edit, name="scheduled_edit"),
    path("analytics/reports/scheduled/<int:pk>/delete/", reports.scheduled_delete, name="scheduled_delete"),
    path("analytics/bi/", reports.bi_page, name="bi"),
]
