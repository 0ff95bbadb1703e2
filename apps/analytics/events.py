"""The event types Analytics publishes."""

from django.urls import NoReverseMatch, reverse

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


_COHORT = payload_schema(
    {"cohort_id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"}},
    ["cohort_id", "name", "kind"],
)


def _cohort_page(event) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("analytics:cohort", args=[event.payload["cohort_id"]])
    except (KeyError, NoReverseMatch):
        return ""


def _cohorts_page(event) -> str:
    from django.urls import reverse

    return reverse("analytics:cohorts")


_DASHBOARD = payload_schema(
    {"dashboard_id": {"type": "integer"}, "name": {"type": "string"}},
    ["dashboard_id", "name"],
)


def _link(name: str, key: str):
    def link(event) -> str:
        try:
            return reverse(name, args=[int(event.payload.get(key))])
        except (NoReverseMatch, TypeError, ValueError):
            return ""

    return link


def _said(event, verb: str, thing: str = "project key") -> str:
    name, actor = event.payload.get("name", ""), actor_name(event)
    return f"{actor} {verb} the {thing} “{name}”" if actor else f"The {thing} “{name}” was {verb}"


_PAGE_VIEWS = payload_schema({"enabled": {"type": "boolean"}}, ["enabled"])


def _page_views_said(event) -> str:
    state, actor = ("on" if event.payload.get("enabled") else "off"), actor_name(event)
    if actor:
        return f"{actor} switched the dashboards' own page views {state}"
    return f"The dashboards' own page views were switched {state}"


def _keys_page(event) -> str:
    return reverse("analytics:keys")


def _link_said(event, active: str, passive: str) -> str:
    name, actor = event.payload.get("name", ""), actor_name(event)
    return f"{actor} {active} the dashboard “{name}”" if actor else f"The dashboard “{name}” {passive}"


EVENT_TYPES = [
    EventType(
        "analytics.project_key_created",
        "Project key created",
        "A key for sending analytics events from a site or an app was created.",
        _KEY,
        summary=lambda e: _said(e, "created"),
        link=_keys_page,
    ),
    EventType(
        "analytics.project_key_revoked",
        "Project key revoked",
        "A project key was revoked: events sent with it are refused from now on.",
        _KEY,
        summary=lambda e: _said(e, "revoked"),
        link=_keys_page,
    ),
    EventType(
        "analytics.page_views_switched",
        "Dashboard page views switched on or off",
        "Recording the dashboards' own page views (as analytics events) was switched on or off.",
        _PAGE_VIEWS,
        summary=_page_views_said,
        link=_keys_page,
    ),
    EventType(
        "analytics.insight_created",
        "Insight saved",
        "An analytics insight (a saved query) was saved.",
        _INSIGHT,
        summary=lambda e: _said(e, "saved", "insight"),
        link=_link("analytics:insight", "insight_id"),
    ),
    EventType(
        "analytics.insight_updated",
        "Insight changed",
        "A saved insight's name, description or query changed.",
        _INSIGHT,
        summary=lambda e: _said(e, "changed", "insight"),
        link=_link("analytics:insight", "insight_id"),
    ),
    EventType(
        "analytics.insight_deleted",
        "Insight deleted",
        "A saved insight was deleted.",
        _INSIGHT,
        summary=lambda e: _said(e, "deleted", "insight"),
    ),
    EventType(
        "analytics.cohort_created",
        "Cohort created",
        "A cohort (a group of persons to filter analytics by) was created.",
        _COHORT,
        summary=lambda e: _said(e, "created", "cohort"),
        link=_cohort_page,
    ),
    EventType(
        "analytics.cohort_updated",
        "Cohort changed",
        "A cohort's name, description, rules or listed members changed.",
        _COHORT,
        summary=lambda e: _said(e, "changed", "cohort"),
        link=_cohort_page,
    ),
    EventType(
        "analytics.cohort_deleted",
        "Cohort deleted",
        "A cohort was deleted.",
        _COHORT,
        summary=lambda e: _said(e, "deleted", "cohort"),
        link=_cohorts_page,
    ),
    EventType(
        "analytics.dashboard_created",
        "Dashboard created",
        "An analytics dashboard was created.",
        _DASHBOARD,
        summary=lambda e: _said(e, "created", "dashboard"),
        link=_link("analytics:dashboard", "dashboard_id"),
    ),
    EventType(
        "analytics.dashboard_updated",
        "Dashboard changed",
        "A dashboard's name, dates, filters or insights changed.",
        _DASHBOARD,
        summary=lambda e: _said(e, "changed", "dashboard"),
        link=_link("analytics:dashboard", "dashboard_id"),
    ),
    EventType(
        "analytics.dashboard_deleted",
        "Dashboard deleted",
        "A dashboard was deleted (its insights are kept).",
        _DASHBOARD,
        summary=lambda e: _said(e, "deleted", "dashboard"),
    ),
    EventType(
        "analytics.dashboard_shared",
        "Dashboard shared",
        "A read-only link to a dashboard was turned on: anyone with the link can see it.",
        _DASHBOARD,
        summary=lambda e: _link_said(e, "turned on a read-only link to", "was shared by a read-only link"),
        link=_link("analytics:dashboard", "dashboard_id"),
    ),
    EventType(
        "analytics.dashboard_share_revoked",
        "Dashboard link revoked",
        "A dashboard's read-only link stopped working (turned off or replaced by a new one).",
        _DASHBOARD,
        summary=lambda e: _link_said(e, "revoked the read-only link to", "lost its read-only link"),
        link=_link("analytics:dashboard", "dashboard_id"),
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
