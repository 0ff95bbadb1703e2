"""Content's personal data (the registry's exporters and erasers, run in a tenant's schema).

Export: the documents and versions a person uploaded, their comments (with earlier texts) and the
download links they made. Erase: the files stay (they are the organisation's), but the person's
name comes off them; their comments' texts are removed, their links turned off, their folder
shares and mentions deleted.
"""

from django.db import connection, transaction
from django.utils import timezone

from apps.core.registry import PersonalData

from . import tus
from .models import Comment, CommentRevision, Document, Folder, FolderShare, ShareLink, Upload, Version

REMOVED = "(comment removed)"
_OWN = "The organisation's files keep who made them, for its records and for collaboration."
HOLDS = (
    PersonalData("content.Folder", ("activity",), ("name", "created"), _OWN),
    PersonalData("content.Document", ("activity",), ("name", "created", "locked_at"), _OWN),
    PersonalData("content.Version", ("content", "activity"), ("document_id", "number", "note", "created"), _OWN),
    PersonalData(
        "content.Upload", ("content",), ("filename", "length", "created"), "Resumable uploads in progress.",
        erasure="delete",
    ),
    PersonalData("content.ShareLink", ("activity",), ("document_id", "created", "revoked_at"), _OWN),
    PersonalData(
        "content.FolderShare", ("preferences",), ("folder_id", "role"), "Who may see which folder.", erasure="delete"
    ),
    PersonalData(
        "content.Comment", ("content",), ("body", "created"), "Conversations on documents.",
        note="The comment's text is removed along with the author.",
    ),
    PersonalData("content.CommentRevision", ("content",), ("body",), "Earlier texts of comments.", erasure="delete"),
)  # fmt: skip


def personal_data_export(*, user) -> dict:
    return {
        "documents_uploaded": list(
            Version.objects.filter(created_by=user)
            .order_by("created")
            .values("document_id", "document__name", "number", "note", "created", "blob__size")
        ),
        "folders_created": list(Folder.objects.filter(created_by=user).values("id", "name", "created")),
        "comments": [
            {
                "id": c.pk,
                "document_id": c.document_id,
                "folder_id": c.folder_id,
                "body": c.body,
                "created": c.created,
                "edited_at": c.edited_at,
                "earlier_texts": list(c.revisions.values_list("body", flat=True)),
            }
            for c in Comment.objects.filter(author=user).prefetch_related("revisions")
        ],  # fmt: skip
        "links_created": list(
            ShareLink.objects.filter(created_by=user).values(
                "id", "document_id", "created", "expires_at", "max_downloads", "downloads", "revoked_at"
            )
        ),
        "folders_shared_with": list(FolderShare.objects.filter(user=user).values("folder_id", "folder__name", "role")),
    }


def personal_data_erase(*, user) -> int:
    with transaction.atomic():
        count = CommentRevision.objects.filter(comment__author=user).delete()[0]
        count += CommentRevision.objects.filter(edited_by=user).update(edited_by=None)
        count += Comment.objects.filter(author=user).update(author=None, body=REMOVED)
        count += Comment.objects.filter(resolved_by=user).update(resolved_by=None)
        count += Comment.mentions.through.objects.filter(user=user).delete()[0]
        count += ShareLink.objects.filter(created_by=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        count += ShareLink.objects.filter(created_by=user).update(created_by=None)
        count += FolderShare.objects.filter(user=user).delete()[0]
        count += FolderShare.objects.filter(created_by=user).update(created_by=None)
        count += Version.objects.filter(created_by=user).update(created_by=None)
        count += Document.objects.filter(created_by=user).update(created_by=None)
        count += Document.objects.filter(locked_by=user).update(locked_by=None, locked_at=None)
        count += Folder.objects.filter(created_by=user).update(created_by=None)
    for upload in Upload.objects.filter(created_by=user):  # with their partial files
        tus.upload_delete(tenant=connection.tenant, upload=upload)
        count += 1
    return count
