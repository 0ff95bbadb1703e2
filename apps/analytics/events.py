"""The event types Analytics publishes."""

from apps.core.events import payload_schema
from apps.core.registry import EventType

_KEY = payload_schema(
    {"key_id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"}},
    ["key_id", "name", "prefix"],
)

EVENT_TYPES = [
    EventType(
        "analytics.project_key_created",
        "Project key created",
        "A key for sending analytics events from a site or an app was created.",
        _KEY,
        summary="{actor} created the project key “{name}”",
    ),
    EventType(
        "analytics.project_key_revoked",
        "Project key revoked",
        "A project key was revoked: events sent with it are refused from now on.",
        _KEY,
        summary="{actor} revoked the project key “{name}”",
    ),
]
