"""/api/v1/analytics/reports/, exports/ and scheduled-reports/: thin views over reports.py.

A report or export is made in the background: POST answers 202 with the job (status `queued`);
GET the job until `status` is `done`, then fetch its `download_url` (signed, expires; it needs
no other credential). Members see their own jobs and scheduled reports, admins everyone's.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.core.api.serializers import HubModelSerializer, StrictCharField
from apps.core.api.views import HubGenericViewSet, HubModelViewSet, mixins
from apps.identity.roles import has_permission

from .. import reports
from ..models_reports import EXPORT_FORMAT_CHOICES, REPORT_FORMAT_CHOICES, ReportJob, ScheduledReport

BUILD, MANAGE = "analytics.reports.build", "analytics.reports.manage"
MAX_ID = 999_999_999_999_999_999  # as the path's ids: a larger number is no id of ours


def _own_unless_manager(view, rows, author_field: str):
    """A member's own rows; everyone's for a role that manages reports (none while the schema is made)."""
    if getattr(view, "swagger_fake_view", False):
        return rows.none()
    if has_permission(view.request.membership.role, MANAGE):
        return rows
    return rows.filter(**{author_field: view.request.user})


class JobSerializer(HubModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="When `status` is `done`: a signed link to the file, valid for an hour (absolute path)."
    )

    class Meta:
        model = ReportJob
        fields = [
            "id", "kind", "format", "title", "insight_ids", "params", "status", "progress", "rows",
            "file_size", "error", "created", "started_at", "finished_at", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, job) -> str | None:
        return reports.download_url(job) if job.status == ReportJob.Status.DONE else None


class ReportRequestSerializer(serializers.Serializer):
    insight_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=reports.MAX_INSIGHTS,
        help_text="Saved insights, in the order the file shows them (a dashboard: its tiles' insights).",
    )  # fmt: skip
    format = serializers.ChoiceField(choices=REPORT_FORMAT_CHOICES)
    title = StrictCharField(max_length=200, required=False, allow_blank=True)


class ExportRequestSerializer(serializers.Serializer):
    date_from = serializers.DateField(help_text="First day, in the organisation's time zone.")
    date_to = serializers.DateField(help_text="Last day (included).")
    format = serializers.ChoiceField(choices=EXPORT_FORMAT_CHOICES)


class _JobViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    api_scope = "analytics"
    read_permission = BUILD
    write_permission = BUILD
    serializer_class = JobSerializer
    ordering_fields = ["id", "created"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "delete", "head", "options"]
    kind = ""
    request_serializer: type[serializers.Serializer]

    def get_queryset(self):
        return _own_unless_manager(self, ReportJob.objects.filter(kind=self.kind), "requested_by")

    def create(self, request, *args, **kwargs):
        payload = self.request_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = self.make(request, payload.validated_data)
        headers = {"Location": f"{request.path.rstrip('/')}/{job.pk}/"}
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED, headers=headers)

    def perform_destroy(self, instance):
        reports.job_delete(actor=self.request.membership, job=instance)


@extend_schema_view(
    list=extend_schema(summary="List reports (files of insights)"),
    retrieve=extend_schema(summary="One report: its progress and, when done, its download link"),
    create=extend_schema(
        summary="Make a report of insights (CSV, Excel, PDF) in the background",
        request=ReportRequestSerializer,
        responses={202: JobSerializer},
    ),
    destroy=extend_schema(summary="Delete a report and its file"),
)
class ReportViewSet(_JobViewSet):
    kind = ReportJob.Kind.REPORT
    request_serializer = ReportRequestSerializer

    def make(self, request, data):
        return reports.report_job_create(
            tenant=request.tenant,
            actor=request.membership,
            insight_ids=data["insight_ids"],
            format=data["format"],
            title=data.get("title", ""),
        )


@extend_schema_view(
    list=extend_schema(summary="List raw event exports"),
    retrieve=extend_schema(summary="One export: its progress and, when done, its download link"),
    create=extend_schema(
        summary="Export raw events of a range of days (CSV, Parquet) in the background",
        request=ExportRequestSerializer,
        responses={202: JobSerializer},
    ),
    destroy=extend_schema(summary="Delete an export and its file"),
)
class ExportViewSet(_JobViewSet):
    kind = ReportJob.Kind.EXPORT
    request_serializer = ExportRequestSerializer

    def make(self, request, data):
        return reports.export_job_create(tenant=request.tenant, actor=request.membership, **data)


class ScheduledReportSerializer(HubModelSerializer):
    insight_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1)
    recipient_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, help_text="User ids of members."
    )
    hour = serializers.IntegerField(min_value=0, max_value=23, default=8, help_text="In the organisation's time zone.")
    format = serializers.ChoiceField(choices=REPORT_FORMAT_CHOICES, default="pdf")

    class Meta:
        model = ScheduledReport
        fields = [
            "id", "name", "insight_ids", "format", "frequency", "hour", "recipient_ids", "is_active",
            "next_run_at", "last_run_at", "last_error", "created",
        ]  # fmt: skip
        read_only_fields = ["id", "next_run_at", "last_run_at", "last_error", "created"]


@extend_schema_view(
    list=extend_schema(summary="List scheduled reports"),
    retrieve=extend_schema(summary="One scheduled report"),
    create=extend_schema(summary="Schedule a report e-mailed daily, weekly or monthly"),
    partial_update=extend_schema(summary="Change a scheduled report"),
    destroy=extend_schema(summary="Delete a scheduled report"),
)
class ScheduledReportViewSet(HubModelViewSet):
    api_scope = "analytics"
    read_permission = BUILD
    write_permission = BUILD
    serializer_class = ScheduledReportSerializer
    ordering_fields = ["id", "name", "next_run_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return _own_unless_manager(self, ScheduledReport.objects.all(), "created_by")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "is_active"}
        schedule = reports.scheduled_report_create(tenant=request.tenant, actor=request.membership, **data)
        headers = {"Location": f"{request.path.rstrip('/')}/{schedule.pk}/"}
        return Response(self.get_serializer(schedule).data, status=status.HTTP_201_CREATED, headers=headers)

    def partial_update(self, request, *args, **kwargs):
        schedule = self.get_object()
        serializer = self.get_serializer(schedule, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.check_precondition(schedule)
        schedule = reports.scheduled_report_update(
            tenant=request.tenant, actor=request.membership, schedule=schedule, **serializer.validated_data
        )
        return Response(self.get_serializer(schedule).data)

    def perform_destroy(self, instance):
        self.check_precondition(instance)
        reports.scheduled_report_delete(actor=self.request.membership, schedule=instance)
