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
