"""Content's data tables: search, sorting, pages and CSV from apps.core.tables."""

import django_tables2 as tables
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe

from apps.core.tables import ActionsColumn, DataTable, TimeColumn

from . import sharing
from .kinds import kind_label
from .lookups import may_edit


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
        return {"can_edit": may_edit(self.request, record.document.folder)}

    def render_size(self, value):
        return filesizeformat(value)


class _TrashRows(DataTable):
    """What the trash's tables share: a row may be restored by the editors of the folder it was
    in (`was_in`) and deleted for good by admins."""

    search_fields = ("name",)

    def was_in(self, record):
        raise NotImplementedError

    def row_context(self, record) -> dict:
        return {
            "can_edit": may_edit(self.request, self.was_in(record)),
            "can_purge": self.request.membership.allows("content.manage"),
        }


class TrashTable(_TrashRows):
    name = tables.Column(verbose_name="Name")
    folder = tables.Column(verbose_name="In", accessor="folder__name", default="Files")
    trashed_at = TimeColumn(verbose_name="Moved to the trash")
    actions = ActionsColumn("content/_trash_actions.html")

    export_name = "trash"

    class Meta(DataTable.Meta):
        empty_text = "The trash is empty."

    def was_in(self, record):
        return record.folder


class TrashFoldersTable(_TrashRows):
    name = tables.Column(verbose_name="Folder")
    parent = tables.Column(verbose_name="In", accessor="parent__name", default="Files")
    trashed_at = TimeColumn(verbose_name="Moved to the trash")
    actions = ActionsColumn("content/_trash_folder_actions.html")

    export_name = "trashed-folders"

    class Meta(DataTable.Meta):
        empty_text = "No folders in the trash."

    def was_in(self, record):
        return record.parent


class ShareLinksTable(DataTable):
    created = TimeColumn(verbose_name="Made")
    created_by = tables.Column(verbose_name="By", accessor="created_by__email", default="—")
    version = tables.Column(verbose_name="Version", accessor="version__number", default="Always the latest")
    expires_at = TimeColumn(verbose_name="Works until")
    password = tables.Column(verbose_name="Password", orderable=False)
    downloads = tables.Column(verbose_name="Downloads", attrs={"td": {"class": "num"}})
    state = tables.Column(verbose_name="State", accessor="pk", orderable=False)
    actions = ActionsColumn("content/_link_actions.html")

    search_fields = ("created_by__email",)
    export_name = "links"

    class Meta(DataTable.Meta):
        empty_text = "No links yet."

    def row_context(self, record) -> dict:
        return {
            "can_edit": may_edit(self.request, record.document.folder),
            "active": sharing.link_state(record) == "Active",
        }

    def render_password(self, value):
        return "Yes" if value else "No"

    def value_password(self, value):
        return "yes" if value else "no"

    def render_downloads(self, record, value):
        return f"{value} of {record.max_downloads}" if record.max_downloads else str(value)

    def render_state(self, record):
        state = sharing.link_state(record)
        tone = {"Active": "success", "Expired": "neutral", "Used up": "neutral", "Turned off": "danger"}[state]
        return format_html('<span class="badge badge-{}">{}</span>', tone, state)

    def value_state(self, record):
        return sharing.link_state(record)


class FolderSharesTable(DataTable):
    user = tables.Column(verbose_name="Member", accessor="user__email")
    role = tables.Column(verbose_name="Role")
    created = TimeColumn(verbose_name="Shared")
    actions = ActionsColumn("content/_share_actions.html")

    search_fields = ("user__email",)
    export_name = "folder-shares"

    class Meta(DataTable.Meta):
        empty_text = "This folder is not shared with anyone in particular: members see it by their role."

    def row_context(self, record) -> dict:
        return {"can_manage": self.request.membership.allows("content.manage")}

    def render_role(self, record):
        return record.get_role_display()


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
