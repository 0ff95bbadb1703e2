"""The event types Content publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, actor_name

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
    return f"{actor} changed the files settings: uploaded pictures {kept} their location"


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
        "content.settings_changed", "Files settings changed",
        "An admin changed the organisation's files settings (e.g. whether pictures keep their location).",
        payload_schema({"keep_image_location": {"type": "boolean"}}, ["keep_image_location"]),
        summary=_settings_changed, link=lambda e: reverse("content:settings"),
    ),
]  # fmt: skip
