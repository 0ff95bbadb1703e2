"""The integration pages' data tables: connections and imported APIs."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from apps.core.tables import DataTable, TimeColumn, badge

from .catalogue import connectors

TONES = {"untested": "neutral", "working": "success", "failing": "warning", "expired": "danger"}


def service_label(key: str) -> str:
    connector = connectors().get(key)
    return connector.label if connector else key


class ConnectionsTable(DataTable):
    name = tables.Column(verbose_name="Name")
    connector = tables.Column(verbose_name="Service")
    auth_type = tables.Column(verbose_name="Credential")
    status = tables.Column(verbose_name="Status")
    status_reason = tables.Column(verbose_name="Last test", orderable=False)
    checked_at = TimeColumn(verbose_name="Tested")

    search_fields = ("name", "connector", "base_url")
    export_name = "connections"

    class Meta(DataTable.Meta):
        row_attrs = {"data-connection": lambda record: record.name}
        empty_text = "No connections yet."

    def render_name(self, value, record):
        return format_html('<a href="{}">{}</a>', reverse("integrations:connection", args=[record.pk]), value)

    def render_connector(self, value):
        return service_label(value)

    def value_connector(self, value, **kwargs):
        return service_label(value)

    def render_auth_type(self, record):
        return record.get_auth_type_display()

    def value_auth_type(self, record, **kwargs):
        return record.get_auth_type_display()

    def render_status(self, record):
        return badge(record.get_status_display(), TONES.get(record.status, "neutral"))

    def value_status(self, record, **kwargs):
        return record.get_status_display()


class ApisTable(DataTable):
    key = tables.Column(verbose_name="Key")
    title = tables.Column(verbose_name="Title")
    version = tables.Column(verbose_name="Version")
    operations = tables.Column(verbose_name="Actions", orderable=False)
    server_url = tables.Column(verbose_name="Server")
    created = TimeColumn(verbose_name="Imported")

    search_fields = ("key", "title")
    export_name = "imported-apis"

    class Meta(DataTable.Meta):
        empty_text = "No imported APIs yet."

    def render_key(self, value, record):
        return format_html('<a href="{}"><code>{}</code></a>', reverse("integrations:api", args=[record.pk]), value)

    def render_operations(self, value):
        return len(value)

    def value_operations(self, value, **kwargs):
        return len(value)


class OperationsTable(DataTable):
    """An imported API's operations (a list of dicts, not a queryset: no search box)."""

    id = tables.Column(verbose_name="Operation")
    request = tables.Column(verbose_name="Request", accessor="path")
    summary = tables.Column(verbose_name="What it does")

    export_name = "api-operations"
    rows_per_page = 50

    class Meta(DataTable.Meta):
        empty_text = "No operations."

    def render_id(self, value):
        return format_html("<code>{}</code>", value)

    def render_request(self, record):
        return format_html("<code>{} {}</code>", record["method"], record["path"])

    def value_request(self, record, **kwargs):
        return f"{record['method']} {record['path']}"
