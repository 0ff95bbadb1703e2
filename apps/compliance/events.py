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


_REQUEST = payload_schema(
    {
        "request_id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["access", "portability", "erasure", "rectification"]},
        "law": {"type": "string", "enum": ["gdpr", "ccpa"]},
        "subject_id": {"type": ["integer", "null"]},
        "due": {"type": "string", "format": "date"},
        "rows": {"type": "integer"},
        "days_left": {"type": "integer"},
    },
    ["request_id", "kind", "law", "subject_id", "due"],
)
# What a person asked for, in words: "<name> asked …", "<actor> opened … request for <name>".
_ASKED = {
    "access": "asked for a copy of their data",
    "portability": "asked for their data in a machine-readable form",
    "erasure": "asked for their data to be erased",
    "rectification": "asked for their data to be corrected",
}


def _requests_page(event) -> str:
    return reverse("compliance:request", args=[event.payload.get("request_id")])


def request_subject(event) -> list:
    """Who hears that their request was answered: the person it is about."""
    return [event.payload.get("subject_id")]


def _subject(event) -> str:
    from apps.identity.selectors import user_name

    return user_name(event.payload.get("subject_id"), fallback="") or "an erased person"


def _opened_sentence(event) -> str:
    from apps.core.registry import actor_name

    p, subject = event.payload, _subject(event)
    if event.actor_id and event.actor_id == p.get("subject_id"):
        return f"{subject} {_ASKED.get(p.get('kind'), 'made a request about their data')}"
    who = actor_name(event) or "The platform"
    return f"{who} opened {_a(p.get('kind'))} request for {subject}"


def _a(kind) -> str:
    word = kind if kind in _ASKED else "data"
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _completed_sentence(event) -> str:
    from apps.core.registry import actor_name

    p, who = event.payload, actor_name(event) or "The platform"
    kind = p.get("kind")
    if kind == "erasure":
        return f"{who} erased a person's data ({p.get('rows', 0):,} records, request #{p.get('request_id')})"
    if kind in ("access", "portability"):
        return f"The copy of {_subject(event)}'s data is ready ({p.get('rows', 0):,} records)"
    return f"{who} corrected {_subject(event)}'s data"


def _refused_sentence(event) -> str:
    from apps.core.registry import actor_name

    who = actor_name(event) or "The platform"
    return f"{who} refused {_subject(event)}'s {event.payload.get('kind') or 'data'} request"


def _due_sentence(event) -> str:
    p = event.payload
    days = p.get("days_left", 0)
    when = (
        f"is overdue by {-days} day{'s' if days != -1 else ''}"
        if days < 0
        else ("is due today" if days == 0 else f"is due in {days} day{'s' if days != 1 else ''}")
    )
    return f"{_a(p.get('kind')).capitalize()} request of {_subject(event)} {when}"


_PURPOSE = payload_schema(
    {
        "purpose_id": {"type": "integer"},
        "key": {"type": "string"},
        "name": {"type": "string"},
        "version": {"type": "integer"},
    },
    ["purpose_id", "key", "name", "version"],
)


def _consent_page(event) -> str:
    return reverse("compliance:consent")


_REVIEW = payload_schema(
    {
        "review_id": {"type": "integer"},
        "period": {"type": "string"},
        "members": {"type": "integer"},
        "kept": {"type": "integer"},
        "removed": {"type": "integer"},
    },
    ["review_id", "period"],
)
_REPORT = payload_schema({"report_id": {"type": "integer"}, "month": {"type": "string"}}, ["report_id", "month"])


def _review_page(event) -> str:
    return reverse("compliance:access_review")


def _reports_page(event) -> str:
    return reverse("compliance:reports")


def _report_sentence(event) -> str:
    from datetime import date

    month = str(event.payload.get("month", ""))
    try:
        month = f"{date.fromisoformat(month + '-01'):%B %Y}"
    except ValueError:
        pass
    return f"The compliance report of {month} is ready"


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
    EventType(
        "compliance.data_request_opened",
        "Data request opened",
        "A person asked for a copy, the erasure or the correction of their personal data.",
        _REQUEST,
        summary=_opened_sentence,
        link=_requests_page,
    ),
    EventType(
        "compliance.data_request_completed",
        "Data request completed",
        "A data request was answered: the copy made, the data erased or corrected.",
        _REQUEST,
        summary=_completed_sentence,
        link=_requests_page,
    ),
    EventType(
        "compliance.data_request_refused",
        "Data request refused",
        "A data request was refused, with the reason the person reads.",
        _REQUEST,
        summary=_refused_sentence,
        link=_requests_page,
    ),
    EventType(
        "compliance.data_request_due",
        "Data request due soon",
        "An unanswered data request is due within a week, or overdue (said once a day).",
        _REQUEST,
        summary=_due_sentence,
        link=_requests_page,
    ),
    EventType(
        "compliance.consent_purpose_changed",
        "Consent purpose changed",
        "A purpose people are asked to consent to was added or changed (new words make a new version).",
        _PURPOSE,
        summary="{actor} changed the consent purpose “{name}” (version {version})",
        link=_consent_page,
    ),
    EventType(
        "compliance.access_review_opened",
        "Access review opened",
        "This quarter's review of who has access began: each member's role is to be confirmed or removed.",
        _REVIEW,
        summary="The access review of {period} is open: confirm each of the {members} members' access",
        link=_review_page,
    ),
    EventType(
        "compliance.access_review_completed",
        "Access review completed",
        "Every member's access was confirmed or removed for the quarter.",
        _REVIEW,
        summary="{actor} completed the access review of {period}: {kept} kept, {removed} removed",
        link=_review_page,
    ),
    EventType(
        "compliance.report_ready",
        "Compliance report ready",
        "A month's compliance report (PDF) is ready to download.",
        _REPORT,
        summary=_report_sentence,
        link=_reports_page,
    ),
]
