"""Reads: project keys, persons, insights and the queries they run."""

from dataclasses import dataclass, field

from django.contrib.postgres.aggregates import StringAgg
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from apps.core.registry import SearchResult

from . import dashboards, sharing, storage
from .models import (
    Cohort,
    CohortMember,
    Dashboard,
    DashboardTile,
    Event,
    Insight,
    PageViewSettings,
    Person,
    PersonDistinctId,
    ProjectKey,
)
from .queries.cohorts import query_read, rule_of
from .queries.common import cohort_sql
from .queries.run import query_run
from .queries.shapes import Filter, filters_parse
from .stores import CLICKHOUSE, store_current


def insight_list() -> QuerySet[Insight]:
    """The current tenant's saved insights, newest first."""
    return Insight.objects.order_by("-id")


def query_answer(*, tenant, data) -> dict:
    """Runs the query JSON `data` for `tenant` (in its schema and time zone): {"kind", "source",
    "cached", "result"}. A ValidationError names each field at fault."""
    return query_run(query=query_read(data), data=data, time_zone=tenant.time_zone or "UTC", store=store_current())


def project_key_list() -> QuerySet[ProjectKey]:
    """The current tenant's project keys, newest first."""
    return ProjectKey.objects.order_by("-id")


def person_of(distinct_id: str) -> Person | None:
    """The person a distinct id belongs to, if any."""
    link = PersonDistinctId.objects.select_related("person").filter(distinct_id=distinct_id).first()
    return link.person if link else None


def experiment_outcomes(
    *, flag_key: str, goal_event: str, prop: str = "", start, end, goal_filters=None, unit: str = "person"
) -> dict:
    """An experiment's sufficient statistics per variant (queries/experiments.py), from the
    tenant's event store. `goal_filters`: event-property filters (JSON, as an insight's) the goal
    events must meet; `unit`: "person", or "organisation" for a flag bucketed by organisation."""
    filters = goal_filters_parse(goal_filters or [], "filters")
    return store_current().experiment_outcomes(
        flag_key=flag_key, goal_event=goal_event, prop=prop, start=start, end=end, goal_filters=filters, unit=unit
    )


def goal_filters_parse(data, path: str) -> tuple[Filter, ...]:
    """Filters on a goal event's properties (an insight's filter JSON, type "event" only); a
    ValidationError naming the field at fault."""
    return filters_parse(data, path, types=("event",))


def cohort_property_rules(cohort_ids) -> dict[int, list[tuple[str, str, object]] | None]:
    """Each cohort's rules as (person property, op, value) that must all hold, when that is all
    it is (by rules, no behaviours); None for a static or behavioural cohort (membership then
    needs the stored events or list)."""
    found = {}
    for cohort in Cohort.objects.filter(pk__in=set(cohort_ids)):
        rule = rule_of(cohort)
        found[cohort.pk] = None if rule.static or rule.behaviours else [(f.key, f.op, f.value) for f in rule.filters]
    return found


def person_properties_seen(keys) -> set[str]:
    """Those of `keys` that some person of the current tenant has among their properties."""
    keys = sorted(set(keys))
    if not keys:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT k FROM unnest(%s::text[]) AS k WHERE EXISTS (SELECT 1 FROM analytics_person WHERE properties ? k)",
            [keys],
        )
        return {row[0] for row in cursor.fetchall()}


def cohort_list() -> QuerySet[Cohort]:
    """The current tenant's cohorts, newest first."""
    return Cohort.objects.order_by("-id")


def cohort_persons(*, cohort: Cohort) -> QuerySet[Person]:
    """The persons in `cohort` now (static: one of their distinct ids is listed; by rules: they
    meet them at this moment), with their distinct ids prefetched. A tenant whose events are in
    ClickHouse has its rule-based cohorts evaluated there (its behaviours count those events)."""
    rule = rule_of(cohort)
    store = store_current()
    if store.name == CLICKHOUSE and not rule.static:
        return Person.objects.filter(pk__in=store.cohort_person_ids(rule)).prefetch_related("distinct_ids")
    if not storage.event_table_exists():
        storage.event_table_ensure()
    condition, params = cohort_sql(Filter("cohort", "", "in", cohort.pk, cohort=rule))
    inside = RawSQL(
        "SELECT pdi.person_id FROM analytics_persondistinctid pdi "
        f"JOIN analytics_person p ON p.id = pdi.person_id WHERE {condition}",
        params,
    )
    return Person.objects.filter(pk__in=inside).prefetch_related("distinct_ids")


def cohort_listed_count(*, cohort: Cohort) -> int:
    """How many distinct ids a static cohort lists (some may have sent no event yet)."""
    return CohortMember.objects.filter(cohort=cohort).count()


# --- The pages: events, persons ------------------------------------------------------------------


def event_list() -> QuerySet[Event]:
    """The current tenant's events, newest first (none while its event table is not made yet)."""
    if not storage.event_table_exists():
        return Event.objects.none()
    return Event.objects.order_by("-timestamp", "-uuid")


def events_received_count(*, since, until) -> int:
    """How many of the current tenant's events were received (captured) in [since, until), as
    written by the writer (events still queued are not counted yet): billing's metering."""
    return event_list().filter(received_at__gte=since, received_at__lt=until).count()


def persons_of(distinct_ids) -> dict[str, Person]:
    """The person of each of `distinct_ids` that has one (one query)."""
    links = PersonDistinctId.objects.select_related("person").filter(distinct_id__in=set(distinct_ids))
    return {link.distinct_id: link.person for link in links}


def person_list() -> QuerySet[Person]:
    """The current tenant's persons, newest first, each with `ids` (its distinct ids, space-separated)."""
    ids = (
        PersonDistinctId.objects.filter(person=OuterRef("pk"))
        .values("person")
        .annotate(ids=StringAgg("distinct_id", " ", order_by="id"))
        .values("ids")
    )
    return Person.objects.annotate(ids=Subquery(ids)).order_by("-created", "-id")


def person_get(uuid) -> Person | None:
    """A person of the current tenant by uuid, or None (another tenant's is simply not here)."""
    return Person.objects.filter(uuid=uuid).first()


def person_distinct_ids(person: Person) -> list[str]:
    return list(person.distinct_ids.order_by("id").values_list("distinct_id", flat=True))


def person_events(person: Person) -> QuerySet[Event]:
    """A person's events, newest first, by any of its distinct ids."""
    return event_list().filter(distinct_id__in=person_distinct_ids(person))


def last_seen(distinct_ids) -> dict[str, object]:
    """The time of the newest event of each distinct id (an index lookup per id and partition)."""
    if not distinct_ids or not storage.event_table_exists():
        return {}
    rows = Event.objects.filter(distinct_id__in=set(distinct_ids)).values("distinct_id").annotate(at=Max("timestamp"))
    return {row["distinct_id"]: row["at"] for row in rows}


def person_search(*, query: str, tenant, user, limit: int) -> list[SearchResult]:
    """The command palette's persons (search provider): by distinct id, email or name."""
    found = (
        Person.objects.filter(
            Q(Exists(PersonDistinctId.objects.filter(person=OuterRef("pk"), distinct_id__icontains=query)))
            | Q(properties__email__icontains=query)
            | Q(properties__name__icontains=query)
        )
        .prefetch_related(Prefetch("distinct_ids", queryset=PersonDistinctId.objects.order_by("id")))
        .order_by("-created", "-id")[:limit]
    )
    results = []
    for person in found:
        ids = [link.distinct_id for link in person.distinct_ids.all()]
        title = person_label(person, ids)
        results.append(SearchResult(title, reverse("analytics:person", args=[person.uuid]), ", ".join(ids[:3])))
    return results


def person_label(person: Person, ids=None) -> str:
    """What people call a person: their email or name property, else their first distinct id."""
    properties = person.properties if isinstance(person.properties, dict) else {}
    for key in ("email", "name", "$email"):
        value = properties.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    ids = ids if ids is not None else person_distinct_ids(person)
    return ids[0] if ids else str(person.uuid)


def page_view_settings() -> PageViewSettings:
    """The tenant's page-view setting (unsaved defaults when never changed)."""
    return PageViewSettings.objects.select_related("key").filter(pk=1).first() or PageViewSettings(pk=1)


def member_names(*, tenant, distinct_ids) -> dict[str, str]:
    """The names of the members behind distinct ids that are user ids (the platform's own events
    and the dashboards' page views are sent with the member's user id)."""
    from apps.identity.selectors import member_list

    user_ids = {int(i) for i in distinct_ids if isinstance(i, str) and i.isdigit() and len(i) < 12}
    if not user_ids:
        return {}
    members = member_list(tenant=tenant, ordered=False).filter(user_id__in=user_ids).select_related("user")
    return {str(m.user_id): m.user.get_full_name() or m.user.email for m in members}


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
