"""Reads. The schema being served holds only its tenant's content, so no query can reach another's."""

from django.db.models import Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django_tenants.utils import schema_context

from apps.core.registry import SearchResult

from . import search, storage
from .kinds import kind_label
from .models import Blob, ContentSettings, Document, Folder, Tag, Version

# The folders in the trash and every folder inside them, as a subquery (one statement).
TRASHED_FOLDERS = """
    WITH RECURSIVE trashed AS (
        SELECT id FROM content_folder WHERE trashed_at IS NOT NULL
        UNION SELECT f.id FROM content_folder f JOIN trashed ON f.parent_id = trashed.id
    ) SELECT id FROM trashed"""


def folder_list(*, parent: Folder | None = None, everywhere: bool = False) -> QuerySet[Folder]:
    """Live folders in `parent` (the top when None), or all live folders."""
    folders = Folder.objects.exclude(pk__in=RawSQL(TRASHED_FOLDERS, []))
    return folders if everywhere else folders.filter(parent=parent)


def folder_get(*, pk) -> Folder:
    """A live folder, or Folder.DoesNotExist."""
    return folder_list(everywhere=True).get(pk=pk)


def folder_path(folder: Folder | None) -> list[Folder]:
    """The folders from the top down to `folder` (for breadcrumbs)."""
    path = []
    while folder is not None:
        path.append(folder)
        folder = folder.parent
    return path[::-1]


def document_list(*, folder: Folder | None = None, everywhere: bool = False) -> QuerySet[Document]:
    documents = _live_documents().select_related("current__created_by", "locked_by", "folder").prefetch_related("tags")
    return documents if everywhere else documents.filter(folder=folder)


def _live_documents() -> QuerySet[Document]:
    return (
        Document.objects.filter(trashed_at__isnull=True)
        .exclude(folder__in=RawSQL(TRASHED_FOLDERS, []))
        .select_related("current__blob")
        .defer("search_vector", "current__blob__text")  # up to megabytes a row: read only where shown
    )


def document_get(*, pk) -> Document:
    """A live document, or Document.DoesNotExist."""
    return document_list(everywhere=True).get(pk=pk)


def tag_list(*, folder: Folder | None = None) -> QuerySet[Tag]:
    """The tags on the live documents of `folder` (the top when None), for its tag filter."""
    return Tag.objects.filter(documents__in=document_list(folder=folder)).distinct().order_by("name")


def trash_list() -> tuple[QuerySet[Folder], QuerySet[Document]]:
    """What is in the trash: trashed folders not inside a trashed folder (each comes back, or goes,
    with what it holds), and trashed documents not inside a trashed folder."""
    folders = Folder.objects.filter(trashed_at__isnull=False).select_related("parent")
    documents = Document.objects.filter(trashed_at__isnull=False).select_related("current__blob", "folder")
    return folders.exclude(parent__trashed_at__isnull=False), documents.exclude(Q(folder__trashed_at__isnull=False))


def trashed_document_get(*, pk) -> Document:
    return Document.objects.filter(trashed_at__isnull=False).get(pk=pk)


def trashed_folder_get(*, pk) -> Folder:
    """A folder the trash lists (one inside a trashed folder comes back with it, not alone)."""
    return trash_list()[0].get(pk=pk)


def version_list(*, document: Document) -> QuerySet[Version]:
    return document.versions.select_related("blob", "created_by").order_by("-number")


def content_settings_get(*, tenant) -> ContentSettings:
    """The tenant's files settings (the defaults, unsaved, until an admin saves them)."""
    with schema_context(tenant.schema_name):
        return ContentSettings.objects.first() or ContentSettings()


def storage_used(*, tenant) -> dict:
    """Bytes stored (each blob once, whatever refers to it), the plan's quota and largest file."""
    limits = storage.limits(tenant)
    used = Blob.objects.aggregate(total=Sum("size"))["total"] or 0
    return {"used_bytes": used, "quota_bytes": limits["quota_bytes"], "max_file_bytes": limits["max_file_bytes"]}


def document_search(*, query: str, tenant, user, limit: int) -> list[SearchResult]:
    """The command palette's documents (search provider): the full-text search's best."""
    hits, _ = search.search(query, limit=limit)
    return [
        SearchResult(h.name, reverse("content:document", args=[h.document_id]), kind_label(h.mime_type)) for h in hits
    ]


def documents_find(*, query: str, filters: search.Filters, limit: int = 50) -> tuple[list[search.Hit], str]:
    """Live documents for `query` and `filters`, best first, with snippets; and the query as
    corrected when it found nothing as typed ("" otherwise)."""
    return search.search(query, filters=filters, limit=limit)


def search_choices() -> dict:
    """What the search filters offer: types, live folders (by path), people who uploaded documents."""
    folders = sorted(
        (folder.pk, " / ".join(f.name for f in folder_path(folder)))
        for folder in folder_list(everywhere=True).select_related("parent__parent__parent")
    )
    owners = (
        Document.objects.filter(trashed_at__isnull=True, created_by__isnull=False)
        .values_list("created_by_id", "created_by__email")
        .distinct()
        .order_by("created_by__email")
    )
    return {
        "types": [(key, label) for key, (label, _) in search.TYPES.items()],
        "folders": sorted(folders, key=lambda choice: choice[1].lower()),
        "owners": list(owners),
    }
