"""The event types Content publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, actor_name

from .processing import OCR_LANGUAGES

_FOLDER = payload_schema(
    {"folder_id": {"type": "integer"}, "name": {"type": "string"}, "parent_id": {"type": ["integer", "null"]}},
    ["folder_id", "name"],
)
_DOCUMENT = payload_schema(
    {
        "document_id": {"type": "integer"},
        "name": {"type": "string"},
        "folder_id": {"type": ["integer", "null"]},
        "version": {"type": ["integer", "null"]},
        "size": {"type": ["integer", "null"]},
        "mime_type": {"type": ["string", "null"]},
    },
    ["document_id", "name"],
)


_PROCESSED = payload_schema(
    {
        "document_id": {"type": "integer"},
        "name": {"type": "string"},
        "version": {"type": "integer"},
        "user_id": {"type": ["integer", "null"]},
        "reason": {"type": "string"},
    },
    ["document_id", "name", "version"],
)


def _processing(event) -> str:
    name, number = event.payload.get("name", ""), event.payload.get("version")
    if event.type == "content.processing_failed":
        return f"Version {number} of “{name}” could not be processed: {event.payload.get('reason', '')}"
    if event.type == "content.processing_retried":
        actor = actor_name(event) or "Someone"
        return f"{actor} asked for version {number} of “{name}” to be processed again"
    return f"Version {number} of “{name}” was processed: its words can be searched"


def uploader(event) -> list:
    """NotificationRule recipients: who uploaded the version."""
    return [event.payload.get("user_id")]


def _said(event, verb: str, thing: str, after: str = "") -> str:
    name, actor = event.payload.get("name", ""), actor_name(event)
    return f"{actor} {verb} the {thing} “{name}”{after}" if actor else f"The {thing} “{name}” was {verb}{after}"


def _versioned(event) -> str:
    name, actor, number = event.payload.get("name", ""), actor_name(event), event.payload.get("version")
    return f"{actor} saved version {number} of “{name}”" if actor else f"Version {number} of “{name}” was saved"


def _document_link(event) -> str:
    return reverse("content:document", args=[event.payload["document_id"]])


def _trash_link(event) -> str:
    return reverse("content:trash")


def _settings_changed(event) -> str:
    actor = actor_name(event) or "Someone"
    kept = "keep" if event.payload.get("keep_image_location") else "no longer keep"
    said = f"{actor} changed the files settings: uploaded pictures {kept} their location"
    languages = [OCR_LANGUAGES.get(code, code) for code in event.payload.get("ocr_languages", "").split("+") if code]
    return f"{said}; scans are read in {', '.join(languages)}" if languages else said


def _folder_link(event) -> str:
    return reverse("content:folder", args=[event.payload["folder_id"]])


EVENT_TYPES = [
    EventType(
        "content.folder_created", "Folder created", "A folder was created.", _FOLDER,
        summary=lambda e: _said(e, "created", "folder"), link=_folder_link,
    ),
    EventType(
        "content.folder_changed", "Folder renamed or moved", "A folder was renamed or moved.", _FOLDER,
        summary=lambda e: _said(e, "renamed or moved", "folder"), link=_folder_link,
    ),
    EventType(
        "content.folder_trashed", "Folder moved to the trash", "A folder and what it holds went to the trash.", _FOLDER,
        summary=lambda e: _said(e, "moved", "folder", " to the trash"), link=_trash_link,
    ),
    EventType(
        "content.folder_restored", "Folder restored", "A folder came back from the trash.", _FOLDER,
        summary=lambda e: _said(e, "restored", "folder"), link=_folder_link,
    ),
    EventType(
        "content.document_uploaded", "Document uploaded", "A document was uploaded (or copied).", _DOCUMENT,
        summary=lambda e: _said(e, "uploaded", "document"), link=_document_link,
    ),
    EventType(
        "content.document_versioned", "New version saved", "A new version of a document was saved.", _DOCUMENT,
        summary=_versioned, link=_document_link,
    ),
    EventType(
        "content.document_changed", "Document changed", "A document was renamed, moved, tagged or its details changed.",
        _DOCUMENT, summary=lambda e: _said(e, "changed", "document"), link=_document_link,
    ),
    EventType(
        "content.document_trashed", "Document moved to the trash", "A document went to the trash.", _DOCUMENT,
        summary=lambda e: _said(e, "moved", "document", " to the trash"), link=_trash_link,
    ),
    EventType(
        "content.document_restored", "Document restored", "A document came back from the trash.", _DOCUMENT,
        summary=lambda e: _said(e, "restored", "document"), link=_document_link,
    ),
    EventType(
        "content.document_purged", "Document deleted", "A trashed document was deleted for good.", _DOCUMENT,
        summary=lambda e: _said(e, "deleted", "document"),
    ),
    EventType(
        "content.document_processed", "Document processed",
        "A version's text was extracted (OCR for scans) and its pictures made: it can be found by its words.",
        _PROCESSED, summary=_processing, link=_document_link,
    ),
    EventType(
        "content.processing_failed", "Processing failed",
        "A version could not be processed (text, OCR, pictures) after its retries; the reason is given.",
        _PROCESSED, summary=_processing, link=_document_link,
    ),
    EventType(
        "content.processing_retried", "Processing asked again",
        "Someone asked for a version that failed to be processed to be tried again.",
        _PROCESSED, summary=_processing, link=_document_link,
    ),
    EventType(
        "content.settings_changed", "Files settings changed",
        "An admin changed the organisation's files settings (e.g. whether pictures keep their location).",
        payload_schema(
            {"keep_image_location": {"type": "boolean"}, "ocr_languages": {"type": "string"}}, ["keep_image_location"]
        ),
        summary=_settings_changed, link=lambda e: reverse("content:settings"),
    ),
]  # fmt: skip
