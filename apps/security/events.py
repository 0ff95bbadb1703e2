"""The event types Security publishes, with the sentences people read about them."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, actor_name

_SEVERITIES = ["low", "medium", "high", "critical"]
_ACTIONS = ["end_sessions", "lock_account", "unlock_account", "revoke_key", "require_mfa"]
_RAISED = payload_schema(
    {
        "incident_id": {"type": "integer"},
        "rule": {"type": "string"},
        "rule_label": {"type": "string"},
        "severity": {"type": "string", "enum": _SEVERITIES},
        "summary": {"type": "string"},
        "user_id": {"type": ["integer", "null"]},
        "ip_address": {"type": ["string", "null"]},
        "api_key_id": {"type": ["integer", "null"]},
    },
    ["incident_id", "rule", "rule_label", "severity", "summary"],
)
_RESPONDED = payload_schema(
    {
        "incident_id": {"type": "integer"},
        "action": {"type": "string", "enum": _ACTIONS},
        "automatic": {"type": "boolean"},
        "outcome": {"type": "string"},
    },
    ["incident_id", "action", "automatic", "outcome"],
)
_CLOSED = payload_schema(
    {
        "incident_id": {"type": "integer"},
        "status": {"type": "string", "enum": ["resolved", "dismissed"]},
        "summary": {"type": "string"},
        "note": {"type": "string"},
    },
    ["incident_id", "status", "summary"],
)
_RULES = payload_schema(
    {"rule": {"type": "string"}, "rule_label": {"type": "string"}, "enabled": {"type": "boolean"},
     "auto_actions": {"type": "array", "items": {"type": "string", "enum": _ACTIONS}}},
    ["rule", "rule_label", "enabled", "auto_actions"],
)  # fmt: skip


def _incident(event) -> str:
    return reverse("security:incident", args=[event.payload.get("incident_id")])


def _rules_page(event) -> str:
    return reverse("security:rules")


def _raised(event) -> str:
    p = event.payload
    return f"{p.get('rule_label', 'Security incident')} ({p.get('severity', '')}): {p.get('summary', '')}"


# What a response did, as the end of a sentence: "<who> <did> (incident #n)".
_DID = {
    "end_sessions": "ended the sessions",
    "lock_account": "locked the account",
    "unlock_account": "unlocked the account",
    "revoke_key": "revoked the API key",
    "require_mfa": "required a second factor",
}


def _responded(event) -> str:
    p = event.payload
    who = actor_name(event) or "The platform"
    how = " automatically" if p.get("automatic") else ""
    did = _DID.get(p.get("action"), "responded")
    return f"{who}{how} {did} for incident #{p.get('incident_id')}: {p.get('outcome', '')}".rstrip(": ")


def _closed(event) -> str:
    p = event.payload
    who = actor_name(event) or "The platform"
    verb = "resolved" if p.get("status") == "resolved" else "dismissed"
    return f"{who} {verb} incident #{p.get('incident_id')}: {p.get('summary', '')}"


def _rules(event) -> str:
    p = event.payload
    who = actor_name(event) or "The platform"
    label = p.get("rule_label", "a rule")
    if not p.get("enabled"):
        return f"{who} turned off the rule “{label}”"
    auto = p.get("auto_actions") or []
    then = " (with automatic responses)" if auto else ""
    return f"{who} set the rule “{label}”{then}"


EVENT_TYPES = [
    EventType(
        "security.incident_raised", "Security incident",
        "A detection rule raised a security incident of low or medium severity.",
        _RAISED, summary=_raised, link=_incident,
    ),
    EventType(
        "security.serious_incident_raised", "Serious security incident",
        "A detection rule raised a security incident of high or critical severity.",
        _RAISED, summary=_raised, link=_incident,
    ),
    EventType(
        "security.incident_responded", "Security response taken",
        "Someone (or a rule's automatic response) ended sessions, locked an account, revoked a key or "
        "required a second factor because of an incident.",
        _RESPONDED, summary=_responded, link=_incident,
    ),
    EventType(
        "security.incident_closed", "Security incident closed",
        "An incident was resolved or dismissed.", _CLOSED, summary=_closed, link=_incident,
    ),
    EventType(
        "security.rule_changed", "Detection rule changed",
        "A detection rule was turned on or off, or its automatic responses changed.",
        _RULES, summary=_rules, link=_rules_page,
    ),
]  # fmt: skip
