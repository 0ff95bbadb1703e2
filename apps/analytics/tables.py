"""The analytics pages' data tables: cohorts, and the persons in one."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from apps.core.tables import ActionsColumn, DataTable, TimeColumn, badge

from .models import Cohort


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
