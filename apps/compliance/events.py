"""The event types Compliance publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType

from .retention import DONE

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


_RETENTION = payload_schema(
    {
        "policy_id": {"type": ["integer", "null"]},
        "record_type": {"type": "string"},
        "label": {"type": "string"},
        "age_days": {"type": "integer"},
        "action": {"type": "string"},
        "deleted": {"type": "boolean"},
    },
    ["record_type", "label", "age_days", "action"],
)
_APPLIED = payload_schema(
    {
        "policy_id": {"type": ["integer", "null"]},
        "record_type": {"type": "string"},
        "label": {"type": "string"},
        "age_days": {"type": "integer"},
        "action": {"type": "string"},
        "run_id": {"type": "integer"},
        "acted": {"type": "integer"},
        "held": {"type": "integer"},
    },
    ["record_type", "label", "age_days", "action", "acted", "held"],
)
_HOLD = payload_schema(
    {
        "hold_id": {"type": "integer"},
        "record_type": {"type": "string"},
        "label": {"type": "string"},
        "object_id": {"type": "string"},
        "reason": {"type": "string"},
    },
    ["record_type", "label", "object_id", "reason"],
)


def _retention_page(event) -> str:
    return reverse("compliance:retention")


def _policy_sentence(event) -> str:
    from apps.core.registry import actor_name

    who, p = actor_name(event) or "The platform", event.payload
    label = str(p.get("label", "records")).lower()
    if p.get("deleted"):
        return f"{who} removed the retention policy of {label}"
    return f"{who} set {label} to be {DONE.get(p.get('action'), p.get('action'))} after {p.get('age_days')} days"


def _applied_sentence(event) -> str:
    p = event.payload
    label, held = str(p.get("label", "records")).lower(), p.get("held") or 0
    kept = f" ({held:,} kept under legal hold)" if held else ""
    done = DONE.get(p.get("action"), p.get("action"))
    return f"Retention {done} {p.get('acted', 0):,} {label} older than {p.get('age_days')} days{kept}"


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
    EventType(
        "compliance.retention_changed",
        "Retention policy changed",
        "How long a kind of record is kept, and what happens to it after, was set, changed or removed.",
        _RETENTION,
        summary=_policy_sentence,
        link=_retention_page,
    ),
    EventType(
        "compliance.retention_applied",
        "Retention applied",
        "A retention policy deleted, anonymised or archived the records older than its age.",
        _APPLIED,
        summary=_applied_sentence,
        link=_retention_page,
    ),
    EventType(
        "compliance.legal_hold_placed",
        "Legal hold placed",
        "A record was put under a legal hold: no retention policy touches it until it is released.",
        _HOLD,
        summary="{actor} put {label} {object_id} under a legal hold: {reason}",
        link=_retention_page,
    ),
    EventType(
        "compliance.legal_hold_released",
        "Legal hold released",
        "A legal hold was released: the record's retention policy applies to it again.",
        _HOLD,
        summary="{actor} released the legal hold on {label} {object_id}",
        link=_retention_page,
    ),
]
