import django_tables2 as tables

from apps.core.tables import DataTable, TimeColumn


class CheckinsTable(DataTable):
    user = tables.Column(verbose_name="Member", accessor="user__email")
    score = tables.Column(verbose_name="Score")
    note = tables.Column(verbose_name="Note")
    created = TimeColumn(verbose_name="When")

    search_fields = ("note", "user__email")
    export_name = "team-pulse"

    class Meta(DataTable.Meta):
        empty_text = "Nobody has checked in yet."
