"""Content's data tables: search, sorting, pages and CSV from apps.core.tables."""

import django_tables2 as tables
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe

from apps.core.tables import ActionsColumn, DataTable, TimeColumn

from .kinds import kind_label


class FoldersTable(DataTable):
    name = tables.Column(verbose_name="Folder")
    created = TimeColumn(verbose_name="Created")

    search_fields = ("name",)
    export_name = "folders"

    class Meta(DataTable.Meta):
        empty_text = "No folders here."

    def render_name(self, record, value):
        return format_html('<a href="{}">📁 {}</a>', reverse("content:folder", args=[record.pk]), value)


class DocumentsTable(DataTable):
    name = tables.Column(verbose_name="Name")
    kind = tables.Column(verbose_name="Type", accessor="current__blob__mime_type", orderable=False)
    size = tables.Column(verbose_name="Size", accessor="current__blob__size", attrs={"td": {"class": "num"}})
    version = tables.Column(verbose_name="Version", accessor="current__number", attrs={"td": {"class": "num"}})
    updated = TimeColumn(verbose_name="Changed")

    search_fields = ("name", "tags__name")
    export_name = "documents"

    class Meta(DataTable.Meta):
        empty_text = "No documents here."

    def render_name(self, record, value):
        link = format_html('<a href="{}">{}</a>', reverse("content:document", args=[record.pk]), value)
        if record.locked_by_id:
            return format_html('{} <span class="badge badge-warning">Checked out</span>', link)
        return link

    def render_kind(self, value):
        return kind_label(value)

    def value_kind(self, value):
        return kind_label(value)

    def render_size(self, value):
        return filesizeformat(value)


class VersionsTable(DataTable):
    number = tables.Column(verbose_name="Version", attrs={"td": {"class": "num"}})
    note = tables.Column(verbose_name="Note")
    created_by = tables.Column(verbose_name="By", accessor="created_by__email")
    size = tables.Column(verbose_name="Size", accessor="blob__size", attrs={"td": {"class": "num"}})
    created = TimeColumn(verbose_name="Saved")
    actions = ActionsColumn("content/_version_actions.html")

    search_fields = ("note",)
    export_name = "versions"

    class Meta(DataTable.Meta):
        empty_text = "No versions."

    def row_context(self, record) -> dict:
        return {"can_edit": self.request.membership.allows("content.edit")}

    def render_size(self, value):
        return filesizeformat(value)


class TrashTable(DataTable):
    name = tables.Column(verbose_name="Name")
    trashed_at = TimeColumn(verbose_name="Moved to the trash")
    actions = ActionsColumn("content/_trash_actions.html")

    search_fields = ("name",)
    export_name = "trash"

    class Meta(DataTable.Meta):
        empty_text = "The trash is empty."

    def row_context(self, record) -> dict:
        membership = self.request.membership
        return {"can_edit": membership.allows("content.edit"), "can_purge": membership.allows("content.manage")}


class SearchTable(DataTable):
    """Search results (dicts of apps.content.search.Hit), best first: the ranking is the order."""

    name = tables.Column(verbose_name="Document", orderable=False)
    snippet = tables.Column(verbose_name="Where the words are", orderable=False, empty_values=())
    mime_type = tables.Column(verbose_name="Type", orderable=False)

    export_name = "search results"

    class Meta(DataTable.Meta):
        empty_text = "No documents match."

    def render_name(self, record, value):
        return format_html('<a href="{}">{}</a>', reverse("content:document", args=[record["document_id"]]), value)

    def render_snippet(self, value):
        # Made safe by apps.content.search.snippet: the text escaped, only <mark> added.
        return mark_safe(f'<span class="search-snippet">{value}</span>') if value else ""  # noqa: S308

    def value_snippet(self, value):
        return strip_tags(value)

    def render_mime_type(self, value):
        return kind_label(value)

    def value_mime_type(self, value):
        return kind_label(value)
