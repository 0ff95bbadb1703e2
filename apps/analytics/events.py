"""The event types Analytics publishes."""

from apps.core.events import payload_schema
from apps.core.registry import EventType, actor_name

_KEY = payload_schema(
    {"key_id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"}},
    ["key_id", "name", "prefix"],
)


def _said(event, verb: str) -> str:
    name, actor = event.payload.get("name", ""), actor_name(event)
    return f"{actor} {verb} the project key “{name}”" if actor else f"The project key “{name}” was {verb}"


EVENT_TYPES = [
    EventType(
        "analytics.project_key_created",
        "Project key created",
        "A key for sending analytics events from a site or an app was created.",
        _KEY,
        summary=lambda e: _said(e, "created"),
    ),
    EventType(
        "analytics.project_key_revoked",
        "Project key revoked",
        "A project key was revoked: events sent with it are refused from now on.",
        _KEY,
        summary=lambda e: _said(e, "revoked"),
    ),
]
