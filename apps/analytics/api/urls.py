from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from .reports import ExportViewSet, ReportViewSet, ScheduledReportViewSet
from .views import CaptureView, CohortViewSet, DashboardViewSet, InsightViewSet, ProjectKeyViewSet, QueryView

router = SimpleRouter()
router.register("project-keys", ProjectKeyViewSet, basename="analytics-project-key")
router.register("insights", InsightViewSet, basename="analytics-insight")
router.register("cohorts", CohortViewSet, basename="analytics-cohort")
router.register("dashboards", DashboardViewSet, basename="analytics-dashboard")
router.register("reports", ReportViewSet, basename="analytics-report")
router.register("exports", ExportViewSet, basename="analytics-export")
router.register("scheduled-reports", ScheduledReportViewSet, basename="analytics-scheduled-report")

urlpatterns = [
    re_path(r"^capture/?$", CaptureView.as_view(), name="analytics-capture"),
    path("query", QueryView.as_view(), name="analytics-query"),
    *router.urls,
]
