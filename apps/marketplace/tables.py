"""The plugins page's data table: the installed plugins and their state in this organisation."""

import django_tables2 as tables
from django.utils.html import format_html

from apps.core.tables import ActionsColumn, DataTable, TimeColumn, badge

from .models import PluginInstall
from .selectors import plugin_get

TONES = {
    PluginInstall.State.ENABLED: "success",
    PluginInstall.State.DISABLED: "neutral",
    PluginInstall.State.BROKEN: "danger",
    PluginInstall.State.AVAILABLE: "info",
    PluginInstall.State.UNINSTALLED: "neutral",
}


class PluginsTable(DataTable):
    name = tables.Column(verbose_name="Plugin", accessor="label")
    description = tables.Column(verbose_name="What it does", accessor="label", orderable=False)
    version = tables.Column(verbose_name="Version", accessor="label", orderable=False)
    state = tables.Column(verbose_name="State")
    changed = TimeColumn(verbose_name="Changed")
    actions = ActionsColumn("marketplace/_plugin_actions.html")

    search_fields = ("label",)
    export_name = "plugins"

    class Meta(DataTable.Meta):
        row_attrs = {"data-plugin": lambda record: record.label}
        empty_text = "No plugins are installed on this platform."

    def render_name(self, value):
        plugin = plugin_get(value)
        return plugin.name if plugin else value

    def render_description(self, value):
        plugin = plugin_get(value)
        return plugin.description if plugin else ""

    def render_version(self, value):
        plugin = plugin_get(value)
        return plugin.version if plugin else ""

    def render_state(self, value, record):
        text = badge(record.get_state_display(), TONES.get(record.state, "neutral"))
        if record.reason:
            return format_html('{} <small class="muted" data-reason>{}</small>', text, record.reason)
        return text

    def value_state(self, value, record):
        return record.get_state_display()
