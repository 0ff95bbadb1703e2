"""The event types Analytics publishes."""

from django.urls import reverse

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
]
