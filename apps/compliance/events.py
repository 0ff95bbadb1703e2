"""The event types Compliance publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType

_CHECK = payload_schema(
    {"ok": {"type": "boolean"}, "entries": {"type": "integer"}, "broken_entry": {"type": ["integer", "null"]}},
    ["ok", "entries", "broken_entry"],
)
_SIEM = payload_schema({"transport": {"type": "string"}}, ["transport"])


def _page(event) -> str:
    return reverse("compliance:index")


def _check_sentence(event) -> str:
    from apps.core.registry import actor_name

    who = actor_name(event) or "The platform"
    p = event.payload
    if p.get("ok"):
        return f"{who} checked the audit trail: {p.get('entries', 0):,} entries, unbroken"
    return f"{who} checked the audit trail: it was changed at entry {p.get('broken_entry')}"


EVENT_TYPES = [
    EventType(
        "compliance.audit_checked",
        "Audit trail checked",
        "Someone checked the audit trail's hash chain for tampering.",
        _CHECK,
        summary=_check_sentence,
        link=_page,
    ),
    EventType(
        "compliance.siem_changed",
        "Audit forwarding changed",
        "Where the audit trail is forwarded (syslog, webhook or nowhere) changed.",
        _SIEM,
        summary="{actor} changed where the audit trail is forwarded",
        link=_page,
    ),
]
