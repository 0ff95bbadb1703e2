"""Reads: project keys, persons, insights and the queries they run."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from . import dashboards, sharing
from .models import Dashboard, DashboardTile, Insight, Person, PersonDistinctId, ProjectKey
from .queries.run import query_run
from .queries.shapes import query_parse


def insight_list() -> QuerySet[Insight]:
    """The current tenant's saved insights, newest first."""
    return Insight.objects.order_by("-id")


def query_answer(*, tenant, data) -> dict:
    """Runs the query JSON `data` for `tenant` (in its schema and time zone): {"kind", "source",
    "cached", "result"}. A ValidationError names each field at fault."""
    return query_run(query=query_parse(data), data=data, time_zone=tenant.time_zone or "UTC")


def project_key_list() -> QuerySet[ProjectKey]:
    """The current tenant's project keys, newest first."""
    return ProjectKey.objects.order_by("-id")


def person_of(distinct_id: str) -> Person | None:
    """The person a distinct id belongs to, if any."""
    link = PersonDistinctId.objects.select_related("person").filter(distinct_id=distinct_id).first()
    return link.person if link else None


# --- Dashboards ----------------------------------------------------------------------------------


def dashboard_list() -> QuerySet[Dashboard]:
    """The current tenant's dashboards, the default first, with their tile counts."""
    return Dashboard.objects.annotate(tile_count=Count("tiles")).order_by("-is_default", "name", "id")


def dashboard_tiles(*, dashboard: Dashboard) -> list[DashboardTile]:
    return list(dashboard.tiles.select_related("insight").order_by("y", "x", "id"))


@dataclass(frozen=True)
class Overrides:
    """What a dashboard applies to every tile: dates (None: each insight's own) and filters."""

    date_from: str | None = None
    date_to: str | None = None
    filters: list = field(default_factory=list)


def dashboard_overrides(*, dashboard: Dashboard, date_range=None, date_from=None, date_to=None, filters=None):
    """The dashboard's own date range and filters, or those given (a page's choice, checked by its
    form): a date range key ("7d", "" for the insights' own), or explicit dates; filters replace
    the dashboard's."""
    today = timezone.localdate()
    if date_from and date_to:
        span = (date_from, date_to)
    else:
        span = dashboards.span_of(dashboard.date_range if date_range is None else date_range, today=today)
    return Overrides(*(span or (None, None)), filters=list(dashboard.filters if filters is None else filters))


def tile_query(*, tile: DashboardTile, overrides: Overrides) -> dict:
    """The tile's insight's query with the dashboard's overrides."""
    return dashboards.query_overridden(
        tile.insight.query, date_from=overrides.date_from, date_to=overrides.date_to, filters=overrides.filters
    )


def tile_answer(*, tenant, tile: DashboardTile, overrides: Overrides) -> dict:
    """The tile's insight run with the dashboard's overrides: the query's answer, or {"error": …}
    with the engine's messages (e.g. a filter the insight's kind cannot take)."""
    query = tile_query(tile=tile, overrides=overrides)
    try:
        return query_answer(tenant=tenant, data=query)
    except ValidationError as exc:
        return {"error": [m for messages in exc.message_dict.values() for m in messages], "query": query}


def dashboard_for_share_token(token: str) -> Dashboard | None:
    """The shared dashboard the link's token opens in the current tenant, or None (a changed or
    old token, sharing turned off, another tenant's token)."""

    def secret_of(pk: int) -> str:
        return Dashboard.objects.filter(pk=pk, shared=True).values_list("share_secret", flat=True).first() or ""

    pk = sharing.dashboard_id_of(token, schema=connection.schema_name, secret_of=secret_of)
    return Dashboard.objects.filter(pk=pk, shared=True).first() if pk is not None else None


def share_token(*, dashboard: Dashboard) -> str:
    """The current read-only link's token of a shared dashboard ("" when not shared)."""
    if not dashboard.shared or not dashboard.share_secret:
        return ""
    return sharing.token_for(schema=connection.schema_name, dashboard_id=dashboard.pk, secret=dashboard.share_secret)
