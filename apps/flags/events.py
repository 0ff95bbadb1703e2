"""The event types Flags publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType

_FLAG = payload_schema(
    {
        "flag_id": {"type": "integer"},
        "key": {"type": "string"},
        "version": {"type": "integer"},
        "note": {"type": "string"},
    },
    ["flag_id", "key", "version", "note"],
)


def _flags_page(event) -> str:
    return reverse("flags:index")


EVENT_TYPES = [
    EventType(
        "flags.flag_created",
        "Feature flag created",
        "A feature flag was added.",
        _FLAG,
        summary="{actor} created the feature flag “{key}”",
        link=_flags_page,
    ),
    EventType(
        "flags.flag_changed",
        "Feature flag changed",
        "A feature flag's rules, rollout, schedule or kill switch changed (a new version).",
        _FLAG,
        summary="{actor} changed the feature flag “{key}” ({note})",
        link=_flags_page,
    ),
    EventType(
        "flags.flag_deleted",
        "Feature flag deleted",
        "A feature flag was deleted.",
        _FLAG,
        summary="{actor} deleted the feature flag “{key}”",
        link=_flags_page,
    ),
]
