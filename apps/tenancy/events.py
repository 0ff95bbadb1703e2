"""The event types tenancy publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, actor_name


def _settings_changed(event) -> str:
    changes = event.payload.get("changes") or {}
    who = actor_name(event)
    fields = ", ".join(sorted(k.replace("_", " ") for k in changes)) or "settings"
    if set(changes) == {"name"}:
        new = changes["name"].get("new", "")
        return f"{who} renamed the organisation to “{new}”" if who else f"The organisation was renamed to “{new}”"
    return f"{who} changed the organisation's {fields}" if who else f"The organisation's {fields} changed"


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
