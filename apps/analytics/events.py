"""The event types Analytics publishes."""

from apps.core.events import payload_schema
from apps.core.registry import EventType, actor_name

_KEY = payload_schema(
    {"key_id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"}},
    ["key_id", "name", "prefix"],
)

_INSIGHT = payload_schema(
    {"insight_id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"}},
    ["insight_id", "name", "kind"],
)


def _said(event, verb: str, thing: str = "project key") -> str:
    name, actor = event.payload.get("name", ""), actor_name(event)
    return f"{actor} {verb} the {thing} “{name}”" if actor else f"The {thing} “{name}” was {verb}"


EVENT_TYPES = [
    EventType(
        "analytics.project_key_created",
        "Project key created",
        "A key for sending analytics events from a site or an app was created.",
        _KEY,
        summary=lambda e: _said(e, "created"),
    ),
    EventType(
        "analytics.project_key_revoked",
        "Project key revoked",
        "A project key was revoked: events sent with it are refused from now on.",
        _KEY,
        summary=lambda e: _said(e, "revoked"),
    ),
    EventType(
        "analytics.insight_created",
        "Insight saved",
        "An analytics insight (a saved query) was saved.",
        _INSIGHT,
        summary=lambda e: _said(e, "saved", "insight"),
    ),
    EventType(
        "analytics.insight_updated",
        "Insight changed",
        "A saved insight's name, description or query changed.",
        _INSIGHT,
        summary=lambda e: _said(e, "changed", "insight"),
    ),
    EventType(
        "analytics.insight_deleted",
        "Insight deleted",
        "A saved insight was deleted.",
        _INSIGHT,
        summary=lambda e: _said(e, "deleted", "insight"),
    ),
]

_JOB = payload_schema(
    {"job_id": {"type": "integer"}, "title": {"type": "string"}, "format": {"type": "string"}},
    ["job_id", "title", "format"],
)
_BI = payload_schema({"role": {"type": "string"}}, ["role"])


def _ready(event, what: str) -> str:
    p, actor = event.payload, actor_name(event)
    whose = f"{actor}'s {what}" if actor else f"The {what}"
    return f"{whose} “{p.get('title', '')}” ({p.get('format', '')}) is ready to download"


def _bi(event, granted: bool) -> str:
    actor, role = actor_name(event) or "Someone", event.payload.get("role", "")
    if granted:
        return f"{actor} gave BI tools a read-only login ({role}) to the analytics views"
    return f"{actor} removed the BI tools' read-only login ({role})"


def _job_link(event) -> str:
    return f"/analytics/reports/jobs/{event.payload.get('job_id')}/"


EVENT_TYPES += [
    EventType(
        "analytics.report_ready",
        "Report ready",
        "A report of analytics insights (CSV, Excel or PDF) was made and can be downloaded.",
        _JOB,
        summary=lambda e: _ready(e, "report"),
        link=_job_link,
    ),
    EventType(
        "analytics.export_ready",
        "Events export ready",
        "An export of raw analytics events (CSV or Parquet) was made and can be downloaded.",
        _JOB,
        summary=lambda e: _ready(e, "events export"),
        link=_job_link,
    ),
    EventType(
        "analytics.bi_access_granted",
        "BI access granted",
        "A read-only database login was made so BI tools (Metabase, Tableau) can read the analytics views.",
        _BI,
        summary=lambda e: _bi(e, True),
        link=lambda e: "/analytics/bi/",
    ),
    EventType(
        "analytics.bi_access_revoked",
        "BI access revoked",
        "The read-only database login for BI tools was removed.",
        _BI,
        summary=lambda e: _bi(e, False),
        link=lambda e: "/analytics/bi/",
    ),
]
