"""The event types tenancy publishes."""

from apps.core.events import payload_schema
from apps.core.registry import EventType

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
    ),
]
