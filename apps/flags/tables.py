"""The flags pages' data tables: the flags, and one flag's versions."""

import django_tables2 as tables
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.core.tables import ActionsColumn, DataTable, TimeColumn, badge

from .experiments import metric_label
from .models import Flag


def status_of(flag: Flag) -> tuple[str, str]:
    """(words, tone) of a flag's state now."""
    now = timezone.now()
    if not flag.active:
        return "Off", "neutral"
    if flag.starts_at and now < flag.starts_at:
        return "Scheduled", "info"
    if flag.ends_at and now >= flag.ends_at:
        return "Ended", "neutral"
    return "On", "success"


def rollout_words(filters: dict) -> str:
    groups = filters.get("groups") or []
    variants = (filters.get("multivariate") or {}).get("variants") or []
    parts = []
    for group in groups:
        count = len(group.get("properties") or [])
        who = f"{count} condition{pluralize(count)}" if count else "everyone"
        rollout = group.get("rollout_percentage")
        parts.append(f"{who} at {100 if rollout is None else rollout:g}%")
    text = "; ".join(parts) or "nobody"
    if variants:
        text += " · " + ", ".join(f"{v['key']} {v['rollout_percentage']:g}%" for v in variants)
    return text


class FlagsTable(DataTable):
    key = tables.Column(verbose_name="Key")
    name = tables.Column(verbose_name="Name")
    status = tables.Column(verbose_name="Status", accessor="active", orderable=False)
    filters = tables.Column(verbose_name="Serves", orderable=False)
    version = tables.Column(verbose_name="Version")
    updated = TimeColumn(verbose_name="Changed")
    actions = ActionsColumn("flags/_flag_actions.html")

    search_fields = ("key", "name", "description")
    export_name = "feature-flags"

    class Meta(DataTable.Meta):
        row_attrs = {"data-flag": lambda record: record.key}
        empty_text = "No feature flags yet."

    def __init__(self, *args, can_edit: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_edit = can_edit
        if not can_edit:
            self.columns.hide("actions")

    def row_context(self, record) -> dict:
        return {"can_edit": self.can_edit}

    def render_key(self, value, record):
        return format_html('<a href="{}"><code>{}</code></a>', reverse("flags:flag", args=[record.pk]), value)

    def render_status(self, record):
        return badge(*status_of(record))

    def value_status(self, record, **kwargs):
        return status_of(record)[0]

    def render_filters(self, value):
        return rollout_words(value)

    def value_filters(self, value, **kwargs):
        return rollout_words(value)


class VersionsTable(DataTable):
    version = tables.Column(verbose_name="Version")
    note = tables.Column(verbose_name="Change")
    created_by = tables.Column(verbose_name="By", default="—")
    created = TimeColumn(verbose_name="When")
    serves = tables.Column(verbose_name="Serves", accessor="definition", orderable=False)
    actions = ActionsColumn("flags/_version_actions.html")

    export_name = "flag-versions"

    class Meta(DataTable.Meta):
        empty_text = "No versions."

    def __init__(self, *args, flag=None, can_edit: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.flag, self.can_edit = flag, can_edit
        if not can_edit:
            self.columns.hide("actions")

    def row_context(self, record) -> dict:
        return {"flag": self.flag, "current": record.version == self.flag.version}

    def render_serves(self, value):
        on = "on" if value.get("active") else "off"
        return f"{on} · {rollout_words(value.get('filters') or {})}"

    def value_serves(self, value, **kwargs):
        return self.render_serves(value)


def experiment_status(experiment) -> tuple[str, str]:
    if experiment.status == "running":
        return "Running", "info"
    if experiment.status == "stopped":
        return (
            (f"Shipped {experiment.shipped_variant}", "success")
            if experiment.shipped_variant
            else ("Stopped", "neutral")
        )
    return "Draft", "neutral"


class ExperimentsTable(DataTable):
    name = tables.Column(verbose_name="Experiment")
    flag = tables.Column(verbose_name="Flag", accessor="flag__key")
    status = tables.Column(verbose_name="Status")
    primary_metric = tables.Column(verbose_name="Primary metric", orderable=False)
    target_per_variant = tables.Column(verbose_name="Target per variant")
    started_at = TimeColumn(verbose_name="Started", default="—")

    search_fields = ("name", "description", "flag__key")
    export_name = "experiments"

    class Meta(DataTable.Meta):
        row_attrs = {"data-experiment": lambda record: record.pk}
        empty_text = "No experiments yet."

    def render_name(self, value, record):
        return format_html('<a href="{}">{}</a>', reverse("flags:experiment", args=[record.pk]), value)

    def render_flag(self, value):
        return format_html("<code>{}</code>", value)

    def render_status(self, record):
        return badge(*experiment_status(record))

    def value_status(self, record, **kwargs):
        return experiment_status(record)[0]

    def render_primary_metric(self, value):
        return metric_label(value)

    def value_primary_metric(self, value, **kwargs):
        return self.render_primary_metric(value)

    def render_target_per_variant(self, value):
        return f"{value:,}"


class DeclaredPropertiesTable(DataTable):
    key = tables.Column(verbose_name="Property")
    kind = tables.Column(verbose_name="Of")
    created = TimeColumn(verbose_name="Declared")
    actions = ActionsColumn("flags/_property_actions.html")

    search_fields = ("key",)
    export_name = "flag-properties"

    class Meta(DataTable.Meta):
        empty_text = "No properties declared: rules may name the properties your analytics persons have."

    def __init__(self, *args, can_edit: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_edit:
            self.columns.hide("actions")

    def render_key(self, value):
        return format_html("<code>{}</code>", value)

    def render_kind(self, record):
        return record.get_kind_display()
