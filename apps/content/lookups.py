"""What content's pages look up first: a live folder or document (404 otherwise), and whether the
member may change things in a folder."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import selectors, sharing
from .models import Document, Folder


def folder_or_404(pk) -> Folder | None:
    if pk is None:
        return None
    try:
        return selectors.folder_get(pk=pk)
    except Folder.DoesNotExist:
        raise Http404 from None


def document_or_404(pk) -> Document:
    try:
        return selectors.document_get(pk=pk)
    except Document.DoesNotExist:
        raise Http404 from None


def may_edit(request, folder: Folder | None) -> bool:
    """Whether the member may change things in `folder` (None: the top): the tenant role or a
    share of the folder or a folder above it (apps.content.sharing.folder_access). The one check
    every content page, API action, table and tus upload asks."""
    return sharing.folder_access(membership=request.membership, folder=folder).can_edit


def need_edit(request, folder: Folder | None) -> None:
    """Editors of the folder only (may_edit); a 403 otherwise (pages and API alike: the API's
    exception handler answers Django's PermissionDenied as a problem)."""
    if not may_edit(request, folder):
        raise PermissionDenied("You may look at this folder's files but not change them.")
