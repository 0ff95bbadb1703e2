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


def need_edit(request, folder: Folder | None) -> None:
    """Editors of the folder only: the tenant role or a share of it (apps.content.sharing)."""
    if not sharing.folder_access(membership=request.membership, folder=folder).can_edit:
        raise PermissionDenied("You may look at this folder's files but not change them.")
