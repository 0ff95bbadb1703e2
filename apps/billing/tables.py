"""The Plan and usage page's table: usage per day."""

import django_filters
import django_tables2 as tables
from django.template.defaultfilters import filesizeformat

from apps.core.tables import DataTable

from .models import Quantity, UsageRecord


class UsageFilter(django_filters.FilterSet):
    quantity = django_filters.ChoiceFilter(choices=Quantity.choices, label="Quantity", empty_label="Every quantity")

    class Meta:
        model = UsageRecord
        fields = ["quantity"]


class UsageTable(DataTable):
    day = tables.DateColumn(verbose_name="Day (UTC)", format="j M Y")
    quantity = tables.Column(verbose_name="Quantity")
    amount = tables.Column(verbose_name="Used", attrs={"td": {"class": "num"}})

    filterset_class = UsageFilter
    export_name = "usage"

    class Meta(DataTable.Meta):
        empty_text = "No usage collected yet"

    def render_quantity(self, record):
        return record.get_quantity_display()

    def render_amount(self, record):
        return filesizeformat(record.amount) if record.quantity == Quantity.STORAGE_BYTES else f"{record.amount:,}"

    def value_quantity(self, record):
        return record.quantity

    def value_amount(self, record):
        return record.amount
