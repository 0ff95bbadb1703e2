"""The event types the API keys publish."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, actor_name

_KEY = {"key_id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"}}


def _keys_page(event) -> str:
    return reverse("api_keys")


def _who(event) -> str:
    return actor_name(event) or "An operator"


EVENT_TYPES = [
    EventType(
        "api_key.created",
        "API key created",
        "An API key was created.",
        payload_schema(
            {**_KEY, "scopes": {"type": "array", "items": {"type": "string"}}}, ["key_id", "name", "prefix"]
        ),
        summary=lambda e: f"{_who(e)} created the API key “{e.payload.get('name', '')}”",
        link=_keys_page,
    ),
    EventType(
        "api_key.revoked",
        "API key revoked",
        "An API key was revoked: it no longer works.",
        payload_schema(_KEY, ["key_id", "name", "prefix"]),
        summary=lambda e: f"{_who(e)} revoked the API key “{e.payload.get('name', '')}”",
        link=_keys_page,
    ),
]
