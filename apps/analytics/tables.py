"""The analytics pages' data tables: cohorts and the persons in one; report jobs and scheduled reports."""

import django_filters
import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from apps.core.tables import ActionsColumn, DataTable, TimeColumn, badge

from .models import Cohort
from .models_reports import ReportJob


class CohortsTable(DataTable):
    name = tables.Column()
    kind = tables.Column(verbose_name="Kind")
    description = tables.Column(orderable=False)
    updated = TimeColumn(verbose_name="Changed")
    actions = ActionsColumn("analytics/_cohort_actions.html")

    search_fields = ("name", "description")
    export_name = "cohorts"

    class Meta(DataTable.Meta):
        row_attrs = {"data-cohort": lambda record: record.pk}
        empty_text = "No cohorts yet."

    def __init__(self, *args, can_build: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_build = can_build

    def row_context(self, record) -> dict:
        return {"can_build": self.can_build}

    def render_name(self, value, record):
        return format_html('<a href="{}">{}</a>', reverse("analytics:cohort", args=[record.pk]), value)

    def render_kind(self, value, record):
        return badge("Static list", "neutral") if record.kind == Cohort.STATIC else badge("By rules", "info")

    def value_kind(self, value, record):
        return record.get_kind_display()


class PersonsTable(DataTable):
    uuid = tables.Column(verbose_name="Person")
    distinct_ids = tables.Column(verbose_name="Distinct ids", empty_values=(), orderable=False)
    properties = tables.Column(verbose_name="Properties", orderable=False)
    created = TimeColumn(verbose_name="First seen")
    actions = ActionsColumn("analytics/_member_actions.html")

    export_name = "cohort-members"

    class Meta(DataTable.Meta):
        empty_text = "Nobody is in this cohort yet."

    def __init__(self, *args, cohort=None, can_remove: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohort, self.can_remove = cohort, can_remove
        if not can_remove:
            self.columns.hide("actions")

    def row_context(self, record) -> dict:
        return {"cohort": self.cohort, "first_id": self.value_distinct_ids(record).split(" ")[0]}

    def render_uuid(self, value):
        return format_html("<code>{}</code>", str(value)[:8])

    def render_distinct_ids(self, record):
        return ", ".join(self._ids(record))

    def value_distinct_ids(self, record, **kwargs):
        return " ".join(self._ids(record))

    @staticmethod
    def _ids(record) -> list[str]:
        return sorted(d.distinct_id for d in record.distinct_ids.all())

    def render_properties(self, value):
        shown = [f"{k}: {v}" for k, v in sorted(value.items())[:4]]
        return ", ".join(shown) + (" …" if len(value) > 4 else "") if shown else "—"


TONES = {"queued": "neutral", "running": "info", "done": "success", "failed": "danger"}


class JobFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ReportJob.Kind.choices, empty_label="Reports and exports", label="Kind")
    status = django_filters.ChoiceFilter(choices=ReportJob.Status.choices, empty_label="Any status", label="Status")

    class Meta:
        model = ReportJob
        fields = ["kind", "status"]


class JobsTable(DataTable):
    title = tables.Column(verbose_name="Report")
    kind = tables.Column(verbose_name="Kind")
    format = tables.Column(verbose_name="Format")
    status = tables.Column(verbose_name="Status")
    created = TimeColumn(verbose_name="Asked")
    actions = ActionsColumn("analytics/_job_actions.html")

    search_fields = ("title",)
    filterset_class = JobFilter
    export_name = "reports"

    class Meta(DataTable.Meta):
        empty_text = "No reports or exports yet."

    def render_title(self, value, record):
        return format_html('<a href="{}">{}</a>', reverse("analytics:report_job", args=[record.pk]), value)

    def render_kind(self, value, record):
        return record.get_kind_display()

    def render_format(self, value, record):
        return record.get_format_display()

    def render_status(self, value, record):
        label = record.get_status_display()
        if record.status == ReportJob.Status.RUNNING:
            label = f"{label} · {record.progress} %"
        return badge(label, TONES.get(value, "neutral"))


class ScheduledReportsTable(DataTable):
    name = tables.Column(verbose_name="Name")
    frequency = tables.Column(verbose_name="When")
    format = tables.Column(verbose_name="Format")
    recipient_ids = tables.Column(verbose_name="Recipients", orderable=False)
    next_run_at = TimeColumn(verbose_name="Next")
    is_active = tables.Column(verbose_name="Status")
    actions = ActionsColumn("analytics/_scheduled_actions.html")

    search_fields = ("name",)
    export_name = "scheduled-reports"

    class Meta(DataTable.Meta):
        empty_text = "No scheduled reports yet."

    def render_frequency(self, value, record):
        return f"{record.get_frequency_display()}, {record.hour:02}:00"

    def render_format(self, value, record):
        return record.get_format_display()

    def render_recipient_ids(self, value):
        return f"{len(value)} member{'s' if len(value) != 1 else ''}"

    def value_recipient_ids(self, value):
        return " ".join(str(v) for v in value)

    def render_is_active(self, value, record):
        if not value:
            return badge("Paused", "neutral")
        if record.last_error:
            return badge("Failing", "warning")
        return badge("Active", "success")
