"""Resumable uploads (the tus 1.0 protocol): the writes behind /api/v1/content/uploads/.

An upload is created with its length and metadata (file name, folder, note, or a document to add
a version to), checked up front against the plan's largest file and the storage quota. Its bytes
are appended, chunk by chunk, to a part file under the tenant's prefix
(`<HUB_CONTENT_ROOT>/<schema>/uploads/<id>`); the Upload row's `offset` is moved only after the
chunk is on disk (and its checksum, when one is sent, matched), so a restart resumes from there.
When the last byte arrives the part file goes through the same services as a multipart upload
(services.document_upload / document_version_add: type by content, size, dedup, versions) and is
removed. Uploads not finished by their expiry are deleted by a periodic task.
"""

import base64
import binascii
import hashlib
import os
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.limits import limit_check

from . import selectors, services, storage
from .models import Blob, Document, Folder, Upload

CHECKSUMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}
COPY = 1024 * 1024


class TooLarge(Exception):
    """The upload would pass the plan's largest file or the storage quota (the message says which)."""


class OffsetMismatch(Exception):
    """The client's Upload-Offset is not where the upload stands."""


class ChecksumMismatch(Exception):
    """The chunk's bytes do not match its Upload-Checksum: they were not kept."""


def part_path(schema: str, upload_id) -> Path:
    return Path(settings.HUB_CONTENT_ROOT) / schema / "uploads" / str(upload_id)


def expiry():
    return timezone.now() + timedelta(hours=settings.HUB_CONTENT_UPLOAD_EXPIRE_HOURS)


def metadata_parse(header: str) -> dict[str, str]:
    """Upload-Metadata (`key base64value,key2 base64value2`) as a dict, or ValidationError."""
    found = {}
    for pair in filter(None, (p.strip() for p in (header or "").split(","))):
        key, _, value = pair.partition(" ")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value.strip() else ""
        except (binascii.Error, UnicodeDecodeError):
            raise ValidationError({"metadata": [f"The value of “{key}” is not base64-encoded UTF-8 text."]}) from None
    return found


def _id_or_error(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationError({field: ["An id is a number."]})
    return int(value)


def upload_create(*, tenant, actor, length: int, metadata_header: str) -> Upload:
    """A new upload of `length` bytes, refused (TooLarge) when the plan cannot hold it and
    (ValidationError naming the field) when the metadata is wrong: nothing is created then."""
    meta = metadata_parse(metadata_header)
    if length == 0:
        raise ValidationError({"file": ["The file is empty."]})
    limits = storage.limits(tenant)
    if length > limits["max_file_bytes"]:
        raise TooLarge(
            f"The file is {filesizeformat(length)}: your plan allows {filesizeformat(limits['max_file_bytes'])} "
            "at most per file."
        )
    folder_id = _id_or_error(meta.get("folder") or meta.get("folder_id"), "folder")
    document_id = _id_or_error(meta.get("document") or meta.get("document_id"), "document")
    with schema_context(tenant.schema_name):
        used = Blob.objects.aggregate(total=Sum("size"))["total"] or 0
        # Uploads under way hold their room too, so that ten at once cannot pass the quota together.
        used += (
            Upload.objects.filter(result_id__isnull=True, expires_at__gt=timezone.now()).aggregate(total=Sum("length"))[
                "total"
            ]
            or 0
        )
        if used + length > limits["quota_bytes"]:
            raise TooLarge(
                f"Your organisation's storage is full: {filesizeformat(used)} of "
                f"{filesizeformat(limits['quota_bytes'])} used, and this file is {filesizeformat(length)}. "
                "Delete files from the trash or move to a larger plan."
            )
        limit_check(tenant=tenant, quantity="storage_bytes", adding=length)  # the plan's storage
        if document_id is not None:
            try:
                document = selectors.document_get(pk=document_id)
            except Document.DoesNotExist:
                raise ValidationError({"document": ["No such document."]}) from None
            filename = document.name
        else:
            filename = services.name_clean(meta.get("filename") or meta.get("name") or "", field="filename")
            if folder_id is not None and not selectors.folder_list(everywhere=True).filter(pk=folder_id).exists():
                raise ValidationError({"folder": ["No such folder."]})
        note = meta.get("note", "")
        if len(note) > 500:
            raise ValidationError({"note": ["A note is at most 500 characters."]})
        upload = Upload.objects.create(
            id=uuid.uuid4(), created_by=actor, length=length, filename=filename, folder_id=folder_id,
            document_id=document_id, note=note, metadata=metadata_header or "", expires_at=expiry(),
        )  # fmt: skip
    path = part_path(tenant.schema_name, upload.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return upload


def upload_get(*, tenant, actor, upload_id) -> Upload:
    """The actor's own live upload, or Upload.DoesNotExist (also for anyone else's)."""
    with schema_context(tenant.schema_name):
        return Upload.objects.get(pk=upload_id, created_by=actor, expires_at__gt=timezone.now())


def checksum_parse(header: str | None):
    """(algorithm's hash object, expected digest) from `Upload-Checksum: sha256 <base64>`, or None;
    ValueError when the algorithm is not one we know or the digest is not base64."""
    if not header:
        return None
    name, _, value = header.strip().partition(" ")
    if name.lower() not in CHECKSUMS:
        raise ValueError(f"Checksums in {name} are not supported: use one of {', '.join(CHECKSUMS)}.")
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise ValueError("The checksum is not base64.") from None
    return CHECKSUMS[name.lower()](), digest


def upload_append(*, tenant, actor, upload: Upload, offset: int, stream, checksum=None) -> Upload:
    """Writes the body of one PATCH at `offset`. The row is locked for the write (a second
    concurrent PATCH of the same upload waits); bytes past the upload's length, a wrong offset
    and a checksum mismatch leave the upload where it was. On the last byte: `upload_finish`."""
    path = part_path(tenant.schema_name, upload.pk)
    with schema_context(tenant.schema_name), transaction.atomic():
        upload = Upload.objects.select_for_update().get(pk=upload.pk)
        if offset != upload.offset:
            raise OffsetMismatch(f"The upload is at byte {upload.offset:,}, not {offset:,}: resume from there.")
        room = upload.length - upload.offset
        written = 0
        with path.open("r+b" if path.exists() else "wb") as part:
            part.seek(upload.offset)
            part.truncate()
            try:
                while chunk := stream.read(COPY):
                    written += len(chunk)
                    if written > room:
                        raise ValidationError(
                            {"file": [f"More bytes than the {upload.length:,} announced in Upload-Length."]}
                        )
                    if checksum is not None:
                        checksum[0].update(chunk)
                    part.write(chunk)
                if checksum is not None and checksum[0].digest() != checksum[1]:
                    raise ChecksumMismatch("The chunk's checksum does not match its bytes: send it again.")
            except BaseException:
                part.truncate(upload.offset)
                raise
            part.flush()
            os.fsync(part.fileno())
        upload.offset += written
        upload.expires_at = expiry()
        upload.save(update_fields=["offset", "expires_at"])
    if upload.offset == upload.length and upload.result_id is None:
        upload_finish(tenant=tenant, actor=actor, upload=upload)
    return upload


def upload_finish(*, tenant, actor, upload: Upload) -> Document:
    """Turns a complete upload into a document (or a new version) through the content services.
    Refused files (type, size, quota, name taken, check-out) raise their ValidationError or
    DocumentLocked, and the upload is deleted with its bytes: nothing is left half-made."""
    path = part_path(tenant.schema_name, upload.pk)
    try:
        with schema_context(tenant.schema_name):
            folder = None
            if upload.folder_id is not None:
                try:
                    folder = selectors.folder_get(pk=upload.folder_id)
                except Folder.DoesNotExist:
                    raise ValidationError(
                        {"folder": ["The folder was deleted while the file was uploading."]}
                    ) from None
            with path.open("rb") as fileobj:
                if upload.document_id is not None:
                    try:
                        document = selectors.document_get(pk=upload.document_id)
                    except Document.DoesNotExist:
                        raise ValidationError(
                            {"document": ["The document was deleted while the file was uploading."]}
                        ) from None
                    services.document_version_add(
                        tenant=tenant, actor=actor, document=document, fileobj=fileobj, note=upload.note
                    )
                else:
                    document = services.document_upload(
                        tenant=tenant, actor=actor, fileobj=fileobj, name=upload.filename, folder=folder,
                        note=upload.note,
                    )  # fmt: skip
            upload.result_id = document.pk
            upload.save(update_fields=["result_id"])
    except BaseException:
        upload_delete(tenant=tenant, upload=upload)
        raise
    path.unlink(missing_ok=True)
    return document


def upload_delete(*, tenant, upload: Upload) -> None:
    """Forgets an upload and its bytes so far (tus termination)."""
    with schema_context(tenant.schema_name):
        Upload.objects.filter(pk=upload.pk).delete()
    part_path(tenant.schema_name, upload.pk).unlink(missing_ok=True)


def uploads_expire(*, tenant) -> int:
    """Deletes the uploads past their expiry (finished or not) and their part files; returns how many."""
    with schema_context(tenant.schema_name):
        stale = list(Upload.objects.filter(expires_at__lte=timezone.now()))
    for upload in stale:
        upload_delete(tenant=tenant, upload=upload)
    return len(stale)
