"""Writes: folders, documents, versions, locks and trash. Keyword-only, <entity>_<action>.

Every function runs in `tenant`'s schema and publishes its domain event in the same transaction.
Bytes are received (hashed, size- and type-checked) before any transaction opens, stored under
their hash if the tenant does not hold them yet, and only then recorded: so a failure leaves at
worst an unreferenced file, never a version without its bytes.
"""

import shutil
import tempfile
import unicodedata
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django_tenants.utils import schema_context

from apps.core.events import publish
from apps.core.limits import LimitReached, limit_check
from apps.core.taskref import TaskRef

from . import processing, search, selectors, storage
from .models import Blob, ContentSettings, Document, Folder, Tag, Version

PROCESS_VERSION = TaskRef("apps.content.tasks.process_version")

MAX_NAME = 255
MAX_TAGS = 50


class DocumentLocked(Exception):
    """Someone else has the document checked out: the message says who, since when, and until when."""


def name_clean(name: str, *, field: str = "name") -> str:
    """A file or folder name as stored (NFC, trimmed), or ValidationError saying what is wrong."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    problem = None
    if not name:
        problem = "Give it a name."
    elif len(name) > MAX_NAME:
        problem = f"Names are at most {MAX_NAME} characters (this one has {len(name):,})."
    elif any(unicodedata.category(c) == "Cc" for c in name):
        problem = "Names cannot contain control characters (such as line breaks or tabs)."
    elif "/" in name or "\\" in name:
        problem = "Names cannot contain / or \\."
    elif name in (".", ".."):
        problem = "“.” and “..” are not names."
    if problem:
        raise ValidationError({field: [problem]})
    return name


def _taken(model, *, name: str, exclude=None, **where) -> bool:
    found = model.objects.filter(name__iexact=name, trashed_at__isnull=True, **where)
    return found.exclude(pk=exclude.pk).exists() if exclude is not None else found.exists()


# --- folders ------------------------------------------------------------------------------


def folder_create(*, tenant, actor, name: str, parent: Folder | None = None) -> Folder:
    name = name_clean(name)
    with schema_context(tenant.schema_name), transaction.atomic():
        if _taken(Folder, name=name, parent=parent):
            raise ValidationError({"name": [f"There is already a folder called “{name}” here."]})
        folder = Folder.objects.create(name=name, parent=parent, created_by=actor)
        publish(
            "content.folder_created",
            {"folder_id": folder.pk, "name": folder.name, "parent_id": parent.pk if parent else None},
            tenant=tenant,
            actor=actor,
        )
    return folder


def folder_update(*, tenant, actor, folder: Folder, name: str | None = None, parent=...) -> Folder:
    """Renames and/or moves a folder (parent=None: to the top); never into itself or below it."""
    with schema_context(tenant.schema_name), transaction.atomic():
        if name is not None:
            folder.name = name_clean(name)
        if parent is not ...:
            ancestor = parent
            while ancestor is not None:
                if ancestor.pk == folder.pk:
                    raise ValidationError({"parent": ["A folder cannot go inside itself."]})
                ancestor = ancestor.parent
            folder.parent = parent
        if _taken(Folder, name=folder.name, parent=folder.parent, exclude=folder):
            raise ValidationError({"name": [f"There is already a folder called “{folder.name}” there."]})
        folder.save()
        publish("content.folder_changed", {"folder_id": folder.pk, "name": folder.name}, tenant=tenant, actor=actor)
    return folder


def folder_trash(*, tenant, actor, folder: Folder) -> None:
    """Moves a folder (and so everything in it) to the trash."""
    with schema_context(tenant.schema_name), transaction.atomic():
        folder.trashed_at = timezone.now()
        folder.save(update_fields=["trashed_at"])
        publish("content.folder_trashed", {"folder_id": folder.pk, "name": folder.name}, tenant=tenant, actor=actor)


def folder_restore(*, tenant, actor, folder: Folder) -> None:
    with schema_context(tenant.schema_name), transaction.atomic():
        if _taken(Folder, name=folder.name, parent=folder.parent):
            raise ValidationError(
                {"name": [f"A folder called “{folder.name}” is there now: rename one of them first."]}
            )
        folder.trashed_at = None
        folder.save(update_fields=["trashed_at"])
        publish("content.folder_restored", {"folder_id": folder.pk, "name": folder.name}, tenant=tenant, actor=actor)


# --- documents and versions --------------------------------------------------------------------


def _receive(tenant, fileobj, name: str) -> storage.Incoming:
    limits = storage.limits(tenant)
    keep_location = selectors.content_settings_get(tenant=tenant).keep_image_location
    incoming = storage.receive(fileobj, name=name, max_bytes=limits["max_file_bytes"], keep_location=keep_location)
    with schema_context(tenant.schema_name):
        known = Blob.objects.filter(sha256=incoming.sha256).exists()
        used = Blob.objects.aggregate(total=Sum("size"))["total"] or 0
    if not known and used + incoming.size > limits["quota_bytes"]:
        incoming.discard()
        raise ValidationError(
            {
                "file": [
                    f"Your organisation's storage is full: {filesizeformat(used)} of "
                    f"{filesizeformat(limits['quota_bytes'])} "
                    "used. Delete files from the trash or move to a larger plan."
                ]
            }
        )
    if not known:
        try:
            limit_check(tenant=tenant, quantity="storage_bytes", adding=incoming.size)  # the plan's storage
        except LimitReached:
            incoming.discard()
            raise
    # Outside any transaction: the bytes are in place before a row refers to them.
    if not known:
        storage.put(tenant.schema_name, incoming)
    return incoming


def _blob_for(tenant, incoming: storage.Incoming) -> Blob:
    """The blob row for the received bytes, locked for this transaction (so it cannot be released
    while a version is being made to point at it); its file re-stored if it went missing."""
    blob, created = Blob.objects.select_for_update().get_or_create(
        sha256=incoming.sha256, defaults={"size": incoming.size, "mime_type": incoming.mime_type}
    )
    # (_receive stored the bytes if the blob was unknown: written again only if they went missing since.)
    if not storage.store().exists(storage.blob_name(tenant.schema_name, blob.sha256)):
        storage.put(tenant.schema_name, incoming)
    return blob


def _check_lock(document: Document, actor) -> None:
    if document.locked_by_id is None or document.locked_by_id == getattr(actor, "pk", None):
        return
    until = document.locked_at + timedelta(hours=settings.HUB_CONTENT_LOCK_HOURS)
    if until <= timezone.now():
        return  # the check-out lapsed
    who = document.locked_by.get_full_name() or document.locked_by.email
    raise DocumentLocked(
        f"{who} checked “{document.name}” out at {date_format(timezone.localtime(document.locked_at), 'H:i, j M')} "
        f"and may be changing it: your version was not saved. Ask them to check it in (or wait until "
        f"{date_format(timezone.localtime(until), 'H:i, j M')}), then upload it again."
    )


def document_upload(
    *, tenant, actor, fileobj, name: str, folder: Folder | None = None, note: str = "", tags=(), metadata=None
) -> Document:
    """A new document with its first version. A live document of the same name in the folder is
    an error (add a version to it instead)."""
    name = name_clean(name)
    incoming = _receive(tenant, fileobj, name)
    try:
        with schema_context(tenant.schema_name), transaction.atomic():
            if _taken(Document, name=name, folder=folder):
                raise ValidationError(
                    {"name": [f"There is already a document called “{name}” here: add a version to it."]}
                )
            blob = _blob_for(tenant, incoming)
            document = Document.objects.create(name=name, folder=folder, created_by=actor, metadata=metadata or {})
            version = Version.objects.create(document=document, number=1, blob=blob, note=note, created_by=actor)
            document.current = version
            document.save(update_fields=["current"])
            if tags:
                document.tags.set(tags_get_or_create(names=tags))
            _indexed_and_processed(document, version)
            publish("content.document_uploaded", _payload(document, version), tenant=tenant, actor=actor)
    finally:
        incoming.discard()
    return document


def document_version_add(*, tenant, actor, document: Document, fileobj, note: str = "") -> Version:
    """A new version of the document's bytes; the same bytes as the current version add none
    (the current one is returned). Refused (DocumentLocked) while someone else has it checked out."""
    _check_lock(document, actor)
    incoming = _receive(tenant, fileobj, document.name)
    try:
        with schema_context(tenant.schema_name), transaction.atomic():
            document = (
                Document.objects.select_for_update(of=("self",))
                .select_related("current__blob", "locked_by")
                .get(pk=document.pk)
            )
            _check_lock(document, actor)  # again, under the lock: two editors at once
            if document.current and document.current.blob.sha256 == incoming.sha256:
                return document.current
            version = _version_add(tenant, actor, document, _blob_for(tenant, incoming), note)
    finally:
        incoming.discard()
    return version


def _version_add(tenant, actor, document: Document, blob: Blob, note: str) -> Version:
    """(In a transaction holding the document's row lock.)"""
    number = (document.current.number if document.current else 0) + 1
    last = document.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = Version.objects.create(
        document=document, number=max(number, last + 1), blob=blob, note=note[:500], created_by=actor
    )
    document.current = version
    document.save(update_fields=["current", "updated"])
    _indexed_and_processed(document, version)
    publish("content.document_versioned", _payload(document, version), tenant=tenant, actor=actor)
    return version


def document_version_restore(*, tenant, actor, document: Document, version: Version) -> Version:
    """Makes an old version current again, as a new version (history is never rewritten)."""
    _check_lock(document, actor)
    with schema_context(tenant.schema_name), transaction.atomic():
        document = (
            Document.objects.select_for_update(of=("self",)).select_related("current", "locked_by").get(pk=document.pk)
        )
        _check_lock(document, actor)
        blob = Blob.objects.select_for_update().get(pk=version.blob_id)
        return _version_add(tenant, actor, document, blob, f"Restored from version {version.number}")


def document_lock(*, tenant, actor, document: Document) -> Document:
    """Checks the document out to `actor`: others cannot add versions until it is checked in."""
    with schema_context(tenant.schema_name), transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).select_related("locked_by").get(pk=document.pk)
        _check_lock(document, actor)
        document.locked_by, document.locked_at = actor, timezone.now()
        document.save(update_fields=["locked_by", "locked_at"])
    return document


def document_unlock(*, tenant, actor, document: Document, force: bool = False) -> Document:
    """Checks the document in; `force` (admins) also ends someone else's check-out."""
    with schema_context(tenant.schema_name), transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).select_related("locked_by").get(pk=document.pk)
        if not force:
            _check_lock(document, actor)
        document.locked_by = document.locked_at = None
        document.save(update_fields=["locked_by", "locked_at"])
    return document


def document_update(
    *,
    tenant,
    actor,
    document: Document,
    name: str | None = None,
    folder=...,
    tags=None,
    metadata=None,
    metadata_types=None,
) -> Document:
    """Renames, moves (folder=None: to the top), re-tags or changes the metadata of a document
    (`metadata_types`: apps.content.metadata; without it, the types of the fields kept stay)."""
    with schema_context(tenant.schema_name), transaction.atomic():
        if name is not None:
            document.name = name_clean(name)
        if folder is not ...:
            document.folder = folder
        if _taken(Document, name=document.name, folder=document.folder, exclude=document):
            raise ValidationError({"name": [f"There is already a document called “{document.name}” there."]})
        if metadata is not None:
            kept = {k: t for k, t in (document.metadata_types or {}).items() if k in metadata}
            document.metadata = metadata
            document.metadata_types = metadata_types if metadata_types is not None else kept
        document.save()
        if tags is not None:
            document.tags.set(tags_get_or_create(names=tags))
        search.documents_reindex([document.pk])
        publish("content.document_changed", _payload(document, document.current), tenant=tenant, actor=actor)
    return document


def document_copy(*, tenant, actor, document: Document, folder: Folder | None, name: str | None = None) -> Document:
    """A new document with the current version's bytes (stored once: the copy refers to the same blob)."""
    name = name_clean(name if name is not None else document.name)
    with schema_context(tenant.schema_name), transaction.atomic():
        if _taken(Document, name=name, folder=folder):
            raise ValidationError({"name": [f"There is already a document called “{name}” there."]})
        blob = Blob.objects.select_for_update().get(pk=document.current.blob_id)
        copy = Document.objects.create(name=name, folder=folder, created_by=actor, metadata=document.metadata)
        version = Version.objects.create(
            document=copy, number=1, blob=blob, note=f"Copied from “{document.name}”", created_by=actor
        )
        copy.current = version
        copy.save(update_fields=["current"])
        copy.tags.set(document.tags.all())
        _indexed_and_processed(copy, version)
        publish("content.document_uploaded", _payload(copy, version), tenant=tenant, actor=actor)
    return copy


def document_trash(*, tenant, actor, document: Document) -> None:
    with schema_context(tenant.schema_name), transaction.atomic():
        document.trashed_at = timezone.now()
        document.save(update_fields=["trashed_at"])
        publish("content.document_trashed", _payload(document, document.current), tenant=tenant, actor=actor)


def document_restore(*, tenant, actor, document: Document) -> None:
    with schema_context(tenant.schema_name), transaction.atomic():
        if _taken(Document, name=document.name, folder=document.folder):
            raise ValidationError(
                {"name": [f"A document called “{document.name}” is there now: rename one of them first."]}
            )
        document.trashed_at = None
        document.save(update_fields=["trashed_at"])
        publish("content.document_restored", _payload(document, document.current), tenant=tenant, actor=actor)


def document_purge(*, tenant, actor, document: Document) -> None:
    """Deletes a trashed document for good, with its versions; then the blobs no version refers to."""
    with schema_context(tenant.schema_name):
        blob_ids = list(document.versions.values_list("blob_id", flat=True))
        with transaction.atomic():
            publish(
                "content.document_purged",
                {"document_id": document.pk, "name": document.name},
                tenant=tenant,
                actor=actor,
            )
            document.delete()
        blobs_release(tenant=tenant, blob_ids=blob_ids)


def folder_purge(*, tenant, actor, folder: Folder) -> int:
    """Deletes a trashed folder for good, with every folder and document inside it (each
    document's versions, then the blobs no version refers to); returns how many documents."""
    with schema_context(tenant.schema_name):
        ids = _below(Folder.objects.filter(pk=folder.pk))
        documents = list(Document.objects.filter(folder__in=ids))
        for document in documents:
            document_purge(tenant=tenant, actor=actor, document=document)
        with transaction.atomic():
            publish("content.folder_purged", {"folder_id": folder.pk, "name": folder.name}, tenant=tenant, actor=actor)
            Folder.objects.filter(pk__in=ids).delete()
    return len(documents)


def trash_purge_expired(*, tenant) -> int:
    """Purges what has been in the trash longer than HUB_CONTENT_TRASH_DAYS; returns how many documents."""
    cutoff = timezone.now() - timedelta(days=settings.HUB_CONTENT_TRASH_DAYS)
    with schema_context(tenant.schema_name):
        old_folders = Folder.objects.filter(trashed_at__lt=cutoff)
        documents = list(
            Document.objects.filter(trashed_at__lt=cutoff) | Document.objects.filter(folder__in=_below(old_folders))
        )
        for document in documents:
            document_purge(tenant=tenant, actor=None, document=document)
        Folder.objects.filter(pk__in=[f.pk for f in old_folders]).delete()
    return len(documents)


def _below(folders) -> set[int]:
    """The folders' ids and those of every folder inside them."""
    ids = set(folders.values_list("pk", flat=True))
    frontier = ids
    while frontier:
        frontier = set(Folder.objects.filter(parent__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    return ids


def blobs_release(*, tenant, blob_ids) -> int:
    """Deletes the blobs (rows and bytes) among `blob_ids` that no version refers to; returns how many.

    Each under its row lock: a version being made to point at a blob holds that lock (see
    _blob_for), so a blob is never deleted under a new version. The file goes first, inside the
    transaction: if the row's deletion then failed, the row would point at no file, which the next
    upload of the same bytes repairs (and nothing refers to it)."""
    released = 0
    with schema_context(tenant.schema_name):
        for blob_id in set(blob_ids):
            with transaction.atomic():
                blob = Blob.objects.select_for_update().filter(pk=blob_id).first()
                if blob is None or Version.objects.filter(blob=blob).exists():
                    continue
                storage.delete(tenant.schema_name, blob.sha256)
                blob.delete()
                released += 1
    return released


def content_settings_update(
    *, tenant, actor, keep_image_location: bool, ocr_languages: list[str] | None = None
) -> ContentSettings:
    """Saves the files settings; `ocr_languages` are Tesseract's codes (processing.OCR_LANGUAGES)."""
    with schema_context(tenant.schema_name), transaction.atomic():
        row = ContentSettings.objects.select_for_update().first() or ContentSettings()
        row.keep_image_location = keep_image_location
        if ocr_languages is not None:
            unknown = [code for code in ocr_languages if code not in processing.OCR_LANGUAGES]
            if unknown or not ocr_languages:
                offered = ", ".join(processing.OCR_LANGUAGES.values())
                raise ValidationError({"ocr_languages": [f"Choose at least one of the languages offered: {offered}."]})
            row.ocr_languages = "+".join(ocr_languages)
        row.save()
        payload = {"keep_image_location": keep_image_location, "ocr_languages": row.ocr_languages}
        publish("content.settings_changed", payload, tenant=tenant, actor=actor)
    return row


# --- processing (apps.content.processing) and the search index --------------------------------------


def _indexed_and_processed(document: Document, version: Version) -> None:
    """(In the transaction that made `version` current.) The document's search vector now, and
    its blob's processing after commit unless the blob was processed already (shared bytes)."""
    search.documents_reindex([document.pk])
    if version.blob.status != Blob.Status.DONE:
        schema = connection.schema_name
        transaction.on_commit(lambda: PROCESS_VERSION.apply_async(args=[version.pk], headers={"_schema_name": schema}))


def version_process(*, tenant, version_id: int) -> Blob | None:
    """Processes the version's blob (text, OCR, pictures) unless it was already, then re-indexes
    every document whose current version has that blob. Raises processing.Unreadable for a file
    that cannot be read, anything else for what may pass on a retry (storage, database)."""
    with schema_context(tenant.schema_name):
        version = Version.objects.select_related("blob", "document").filter(pk=version_id).first()
        if version is None:
            return None  # purged since
        blob = version.blob
        if blob.status != Blob.Status.DONE:
            Blob.objects.filter(pk=blob.pk).update(status=Blob.Status.RUNNING, status_reason="")
            languages = selectors.content_settings_get(tenant=tenant).ocr_languages
            with tempfile.NamedTemporaryFile(prefix="hub-blob-") as copy:
                with storage.open_blob(tenant.schema_name, blob.sha256) as source:
                    shutil.copyfileobj(source, copy)
                copy.flush()
                text, made, pages = processing.process(
                    Path(copy.name), blob.mime_type, schema=tenant.schema_name, sha256=blob.sha256, languages=languages
                )
            blob.status, blob.status_reason, blob.text, blob.renditions = Blob.Status.DONE, "", text, made
            blob.pages, blob.processed_at = pages or None, timezone.now()
        with transaction.atomic():
            blob.save(update_fields=["status", "status_reason", "text", "renditions", "pages", "processed_at"])
            search.documents_reindex(Document.objects.filter(current__blob=blob).values_list("pk", flat=True))
            publish("content.document_processed", _processed_payload(version), tenant=tenant, actor=None)
    return blob


def version_process_failed(*, tenant, version_id: int, reason: str) -> None:
    """The version's blob could not be processed (after its retries): says why, and tells its uploader."""
    with schema_context(tenant.schema_name), transaction.atomic():
        version = Version.objects.select_related("blob", "document").filter(pk=version_id).first()
        if version is None:
            return
        Blob.objects.filter(pk=version.blob_id).update(status=Blob.Status.FAILED, status_reason=reason[:500])
        payload = {**_processed_payload(version), "reason": reason[:500]}
        publish("content.processing_failed", payload, tenant=tenant, actor=None)


def document_process_again(*, tenant, actor, document: Document) -> None:
    """Tries processing the current version again (after it failed, or when it never ran)."""
    with schema_context(tenant.schema_name), transaction.atomic():
        version = Version.objects.select_related("blob", "document").get(pk=document.current_id)
        if version.blob.status in (Blob.Status.DONE, Blob.Status.RUNNING):
            raise ValidationError({"document": [f"“{document.name}” is {version.blob.get_status_display().lower()}."]})
        Blob.objects.filter(pk=version.blob_id).update(status=Blob.Status.PENDING, status_reason="")
        version.blob.status = Blob.Status.PENDING
        publish("content.processing_retried", _processed_payload(version), tenant=tenant, actor=actor)
        _indexed_and_processed(version.document, version)


def blobs_process(*, tenant, failed: bool = False) -> int:
    """Sends every blob waiting to be processed (and, with `failed`, those that failed) to the
    workers, one task per blob through its newest version; returns how many."""
    statuses = [Blob.Status.PENDING, Blob.Status.FAILED] if failed else [Blob.Status.PENDING]
    with schema_context(tenant.schema_name), transaction.atomic():
        blobs = Blob.objects.filter(status__in=statuses)
        versions = list(
            Version.objects.filter(blob__in=blobs).order_by("blob_id", "-pk").distinct("blob_id").select_related("blob")
        )
        Blob.objects.filter(pk__in=[v.blob_id for v in versions]).update(status=Blob.Status.PENDING, status_reason="")
        schema = connection.schema_name
        for version in versions:
            transaction.on_commit(
                lambda pk=version.pk: PROCESS_VERSION.apply_async(args=[pk], headers={"_schema_name": schema})
            )
    return len(versions)


def _processed_payload(version: Version) -> dict:
    return {
        "document_id": version.document_id,
        "name": version.document.name,
        "version": version.number,
        "user_id": version.created_by_id,
    }


def tags_get_or_create(*, names) -> list[Tag]:
    cleaned = []
    for name in names:
        name = " ".join(str(name).split())[:60]
        if name and name.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": [f"At most {MAX_TAGS} tags on one document."]})
    tags = []
    for name in cleaned:
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        tags.append(tag)
    return tags


def _payload(document: Document, version: Version | None) -> dict:
    return {
        "document_id": document.pk,
        "name": document.name,
        "folder_id": document.folder_id,
        "version": version.number if version else None,
        "size": version.blob.size if version else None,
        "mime_type": version.blob.mime_type if version else None,
    }
