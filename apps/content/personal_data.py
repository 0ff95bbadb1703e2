"""Content's personal data (the registry's exporters and erasers, run in a tenant's schema).

Export: the documents and versions a person uploaded, their comments (with earlier texts) and the
download links they made. Erase: the files stay (they are the organisation's), but the person's
name comes off them; their comments' texts are removed, their links turned off, their folder
shares and mentions deleted.
"""

from django.db import transaction
from django.utils import timezone

from .models import Comment, CommentRevision, Document, Folder, FolderShare, ShareLink, Version

REMOVED = "(comment removed)"


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
    return count
