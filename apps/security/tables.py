"""The security page's data table of incidents."""

import django_filters
import django_tables2 as tables
from django.utils.html import format_html

from apps.core.tables import DataTable, TimeColumn, badge

from .models import Incident, Severity
from .rules import RULES, rule_label

SEVERITY_TONES = {"low": "neutral", "medium": "info", "high": "warning", "critical": "danger"}
STATUS_TONES = {"open": "danger", "resolved": "success", "dismissed": "neutral"}


def severity_badge(value: str):
    return badge(Severity(value).label, SEVERITY_TONES.get(value, "neutral"))


def status_badge(incident: Incident):
    return badge(incident.get_status_display(), STATUS_TONES.get(incident.status, "neutral"))


class IncidentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Incident.Status.choices, empty_label="Any state", label="State")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="Any severity", label="Severity")
    rule = django_filters.ChoiceFilter(
        choices=[(r.code, r.label) for r in RULES.values()], empty_label="Any rule", label="Rule"
    )

    class Meta:
        model = Incident
        fields = ["status", "severity", "rule"]


class IncidentsTable(DataTable):
    pk = tables.Column(verbose_name="Incident", linkify=("security:incident", {"pk": tables.A("pk")}))
    severity = tables.Column(verbose_name="Severity")
    rule = tables.Column(verbose_name="Rule")
    summary = tables.Column(verbose_name="What happened", orderable=False)
    status = tables.Column(verbose_name="State")
    raised_at = TimeColumn(verbose_name="Raised")

    search_fields = ("summary", "email")
    filterset_class = IncidentFilter
    export_name = "security-incidents"

    class Meta(DataTable.Meta):
        row_attrs = {"data-incident": lambda record: record.pk, "data-rule": lambda record: record.rule}
        empty_text = "No security incident: nothing suspicious was detected."

    def render_pk(self, value):
        return f"#{value}"

    def render_severity(self, value, record):
        return severity_badge(record.severity)

    def value_severity(self, value, record):
        return record.severity

    def render_rule(self, value):
        return rule_label(value)

    def render_status(self, value, record):
        return status_badge(record)

    def value_status(self, value, record):
        return record.status

    def render_summary(self, value, record):
        return format_html("{}", value)


GRADE_TONES = {"A": "success", "B": "success", "C": "info", "D": "warning", "E": "warning", "F": "danger"}


class FindingsTable(DataTable):
    """The findings of one posture scan (dicts as PostureScan.findings keeps them), the worst first."""

    severity = tables.Column(verbose_name="Severity")
    title = tables.Column(verbose_name="Finding", attrs={"td": {"class": "prose"}})
    count = tables.Column(verbose_name="How many", attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    fix_url = tables.Column(
        verbose_name="Fix", orderable=False, exclude_from_export=True, attrs={"td": {"class": "actions"}}
    )

    export_name = "security-posture"

    class Meta(DataTable.Meta):
        row_attrs = {"data-finding": lambda record: record["code"]}
        empty_text = "Nothing to fix: every check passed."
        orderable = False

    def render_severity(self, value):
        return severity_badge(value)

    def value_severity(self, value):
        return value

    def render_title(self, value, record):
        return format_html('<strong>{}</strong><br><span class="muted">{}</span>', value, record["detail"])

    def value_title(self, value, record):
        return f"{value}: {record['detail']}"

    def render_fix_url(self, value, record):
        return format_html('<a href="{}">Fix this<span class="visually-hidden">: {}</span></a>', value, record["title"])


class ScansTable(DataTable):
    """The last posture scans: the trend."""

    checked_at = TimeColumn(verbose_name="Checked", orderable=False)
    score = tables.Column(verbose_name="Score", orderable=False, attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    grade = tables.Column(verbose_name="Grade", orderable=False)
    findings = tables.Column(
        verbose_name="Findings", orderable=False, attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    checked_by = tables.Column(verbose_name="By", orderable=False, empty_values=())

    export_name = "security-posture-history"

    class Meta(DataTable.Meta):
        row_attrs = {"data-scan": lambda record: record.pk}
        empty_text = "No check yet."

    def render_grade(self, value):
        return badge(value, GRADE_TONES.get(value, "neutral"))

    def render_findings(self, value):
        return len(value)

    def value_findings(self, value):
        return len(value)

    def render_checked_by(self, value, record):
        return (value.get_full_name() or value.email) if value else "The platform"

    def value_checked_by(self, value, record):
        return value.email if value else ""
