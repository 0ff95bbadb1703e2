"""The event types tenancy publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, actor_name


def _settings_changed(event) -> str:
    changes = event.payload.get("changes") or {}
    who = actor_name(event) or "Someone"
    if set(changes) == {"name"}:
        return f"{who} renamed the organisation to “{changes['name'].get('new', '')}”"
    fields = ", ".join(sorted(k.replace("_", " ") for k in changes)) or "settings"
    return f"{who} changed the organisation's {fields}"


EVENT_TYPES = [
    EventType(
        "organisation.settings_changed",
        "Organisation settings changed",
        "The organisation's settings (such as its name) were changed.",
        payload_schema(
            {
                "changes": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {"old": {}, "new": {}},
                        "required": ["old", "new"],
                    },
                }
            },
            ["changes"],
        ),
        summary=_settings_changed,
        link=lambda event: reverse("organisation_settings"),
    ),
]
