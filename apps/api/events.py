"""The event types the API keys publish."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, actor_name

_KEY = {"key_id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"}}


def _keys_page(event) -> str:
    return reverse("api_keys")


def _said(event, verb: str) -> str:
    name, actor = event.payload.get("name", ""), actor_name(event)
    return f"{actor} {verb} the API key “{name}”" if actor else f"The API key “{name}” was {verb}"


EVENT_TYPES = [
    EventType(
        "api_key.created",
        "API key created",
        "An API key was created.",
        payload_schema(
            {**_KEY, "scopes": {"type": "array", "items": {"type": "string"}}}, ["key_id", "name", "prefix"]
        ),
        summary=lambda e: _said(e, "created"),
        link=_keys_page,
    ),
    EventType(
        "api_key.revoked",
        "API key revoked",
        "An API key was revoked: it no longer works.",
        payload_schema(_KEY, ["key_id", "name", "prefix"]),
        summary=lambda e: _said(e, "revoked"),
        link=_keys_page,
    ),
]
