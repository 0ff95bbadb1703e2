"""The compliance pages' data tables."""

import django_tables2 as tables

from apps.core.tables import DataTable


class InventoryTable(DataTable):
    area = tables.Column(verbose_name="Where")
    record = tables.Column(verbose_name="Record")
    categories = tables.Column(verbose_name="Personal data", orderable=False)
    fields = tables.Column(verbose_name="Fields", orderable=False)
    purpose = tables.Column(verbose_name="Why", orderable=False)
    erasure = tables.Column(verbose_name="On erasure")
    note = tables.Column(verbose_name="Note", orderable=False, default="")

    export_name = "data-inventory"
    rows_per_page = 100

    class Meta(DataTable.Meta):
        row_attrs = {"data-model": lambda record: record["model"]}
        empty_text = "No app declares personal data."
