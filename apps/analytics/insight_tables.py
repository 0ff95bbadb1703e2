"""The data tables of the insights and dashboards pages."""

import django_filters
import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from apps.core.tables import ActionsColumn, DataTable, TimeColumn, badge

from .builder import KIND_WORDS
from .dashboards import RANGE_WORDS
from .models import Insight


class InsightFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=list(KIND_WORDS.items()), empty_label="Any kind", label="Kind", field_name="query__kind"
    )

    class Meta:
        model = Insight
        fields = ["kind"]


class _ActionsTable(DataTable):
    """Its rows' buttons show what the viewer's role lets them do (`can_build`)."""

    def __init__(self, *args, can_build: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_build = can_build

    def row_context(self, record) -> dict:
        return {"can_build": self.can_build}


class InsightsTable(_ActionsTable):
    name = tables.Column(verbose_name="Name")
    kind = tables.Column(accessor="query__kind", verbose_name="Kind", orderable=False)
    description = tables.Column(verbose_name="Description", orderable=False)
    updated = TimeColumn(verbose_name="Changed")
    actions = ActionsColumn("analytics/_insight_actions.html")

    search_fields = ("name", "description")
    filterset_class = InsightFilter
    export_name = "insights"

    class Meta(DataTable.Meta):
        row_attrs = {"data-insight": lambda record: record.pk}
        empty_text = "No insights yet."

    def render_name(self, record):
        return format_html('<a href="{}">{}</a>', reverse("analytics:insight", args=[record.pk]), record.name)

    def value_name(self, record):
        return record.name

    def render_kind(self, value):
        return KIND_WORDS.get(value, value)

    def value_kind(self, value):
        return value


class DashboardsTable(_ActionsTable):
    name = tables.Column(verbose_name="Name")
    tile_count = tables.Column(verbose_name="Insights", attrs={"td": {"class": "num"}})
    date_range = tables.Column(verbose_name="Dates", orderable=False)
    shared = tables.Column(verbose_name="Link", orderable=False)
    updated = TimeColumn(verbose_name="Changed")
    actions = ActionsColumn("analytics/_dashboard_actions.html")

    search_fields = ("name", "description")
    export_name = "dashboards"

    class Meta(DataTable.Meta):
        row_attrs = {"data-dashboard": lambda record: record.pk}
        empty_text = "No dashboards yet."

    def render_name(self, record):
        link = format_html('<a href="{}">{}</a>', reverse("analytics:dashboard", args=[record.pk]), record.name)
        return format_html("{} {}", link, badge("Default", "info")) if record.is_default else link

    def value_name(self, record):
        return record.name

    def render_date_range(self, value):
        return RANGE_WORDS.get(value, value)

    def render_shared(self, value):
        return badge("Shared", "warning") if value else badge("Private", "neutral")

    def value_shared(self, value):
        return "shared" if value else "private"
