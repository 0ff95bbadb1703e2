"""The event types Content publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, NotificationRule, actor_name

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
        "content.folder_purged", "Folder deleted",
        "A trashed folder was deleted for good, with what it held.", _FOLDER,
        summary=lambda e: _said(e, "deleted", "folder"),
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


# --- sharing and conversation --------------------------------------------------------------------

_LINK = payload_schema(
    {
        "link_id": {"type": "integer"},
        "document_id": {"type": "integer"},
        "name": {"type": "string"},
        "version": {"type": ["integer", "null"]},
        "expires_at": {"type": "string"},
        "downloads": {"type": "integer"},
    },
    ["link_id", "document_id", "name"],
)
_SHARE = payload_schema(
    {
        "folder_id": {"type": "integer"},
        "name": {"type": "string"},
        "user_id": {"type": "integer"},
        "email": {"type": "string"},
        "role": {"type": "string", "enum": ["viewer", "editor"]},
    },
    ["folder_id", "name", "user_id", "role"],
)
_COMMENT = payload_schema(
    {
        "comment_id": {"type": "integer"},
        "thread_id": {"type": "integer"},
        "document_id": {"type": ["integer", "null"]},
        "folder_id": {"type": ["integer", "null"]},
        "name": {"type": "string"},
        "excerpt": {"type": "string"},
        "user_ids": {"type": "array", "items": {"type": "integer"}},
    },
    ["comment_id", "name"],
)


def _on(event) -> str:
    return f"“{event.payload.get('name', '')}”"


def _who(event) -> str:
    return actor_name(event) or "Someone"


def _subject_link(event) -> str:
    payload = event.payload
    if payload.get("document_id"):
        return reverse("content:document", args=[payload["document_id"]]) + "#comments"
    return reverse("content:folder_comments", args=[payload["folder_id"]])


def _link_used(event) -> str:
    return (
        f"Someone downloaded {_on(event)} through a shared link ({event.payload.get('downloads', 0)} downloads so far)"
    )


def _shared(event) -> str:
    role = "an editor" if event.payload.get("role") == "editor" else "a viewer"
    return f"{_who(event)} shared the folder {_on(event)} with {event.payload.get('email', 'a member')} as {role}"


def _mentioned(event) -> str:
    count = len(event.payload.get("user_ids", []))
    return f"{_who(event)} mentioned {count} member{'s' if count != 1 else ''} in a comment on {_on(event)}"


SHARING_EVENT_TYPES = [
    EventType(
        "content.link_created", "Download link created", "A public download link of a document was made.", _LINK,
        summary=lambda e: f"{_who(e)} made a download link of {_on(e)}", link=_document_link,
    ),
    EventType(
        "content.link_revoked", "Download link turned off", "A public download link was turned off.", _LINK,
        summary=lambda e: f"{_who(e)} turned off a download link of {_on(e)}", link=_document_link,
    ),
    EventType(
        "content.link_used", "Download link used", "A document was downloaded through a public link.", _LINK,
        summary=_link_used, link=_document_link,
    ),
    EventType(
        "content.folder_shared", "Folder shared", "A folder was shared with a member (or their role in it changed).",
        _SHARE, summary=_shared, link=_folder_link,
    ),
    EventType(
        "content.folder_unshared", "Folder no longer shared", "A member's share of a folder was removed.", _SHARE,
        summary=lambda e: f"{_who(e)} stopped sharing the folder {_on(e)} with {e.payload.get('email', 'a member')}",
        link=_folder_link,
    ),
    EventType(
        "content.comment_added", "Comment written", "Someone commented on a document or a folder.", _COMMENT,
        summary=lambda e: f"{_who(e)} commented on {_on(e)}", link=_subject_link,
    ),
    EventType(
        "content.comment_edited", "Comment edited", "A comment was edited (its earlier text is kept).", _COMMENT,
        summary=lambda e: f"{_who(e)} edited a comment on {_on(e)}", link=_subject_link,
    ),
    EventType(
        "content.thread_resolved", "Conversation resolved", "A thread of comments was marked resolved.", _COMMENT,
        summary=lambda e: f"{_who(e)} resolved a conversation on {_on(e)}", link=_subject_link,
    ),
    EventType(
        "content.thread_reopened", "Conversation reopened", "A resolved thread of comments was reopened.", _COMMENT,
        summary=lambda e: f"{_who(e)} reopened a conversation on {_on(e)}", link=_subject_link,
    ),
    EventType(
        "content.member_mentioned", "Mentioned in a comment", "Someone mentioned members in a comment.", _COMMENT,
        summary=_mentioned, link=_subject_link,
    ),
]  # fmt: skip
EVENT_TYPES += SHARING_EVENT_TYPES

NOTIFICATION_RULES = [
    NotificationRule(
        "content.member_mentioned", lambda e: e.payload.get("user_ids", []),
        # The activity feed says how many were mentioned; each of them reads "… mentioned you …".
        title=lambda e: f"{_who(e)} mentioned you in a comment on {_on(e)}",
        body=lambda e: e.payload.get("excerpt", ""), default_channel="both",
    ),
    NotificationRule("content.folder_shared", lambda e: [e.payload.get("user_id")]),
]  # fmt: skip
