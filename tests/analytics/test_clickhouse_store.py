"""The ClickHouse store (chDB here) behind the real writer and query path: a tenant's batches go
to its store, nothing is lost or doubled when the writer dies, persons merged after their events
count as one, tenants never see each other's events, and a tenant's history moves with
`manage.py analytics_move_store`."""

import io
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import schema_context

from apps.analytics import queue, selectors, services
from apps.analytics.models import EventStoreChoice
from apps.analytics.queries.run import version_bump
from apps.analytics.stores import clickhouse, store_choice
from apps.analytics.stores.chclient import client

from .conftest import host_client, post_json, project_key, stored, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_clickhouse(tenant_a, tenant_b):
    """Both tenants on the ClickHouse store (their ClickHouse databases dropped afterwards)."""
    for tenant in (tenant_a, tenant_b):
        with schema_context(tenant.schema_name):
            EventStoreChoice.objects.update_or_create(pk=1, defaults={"store": "clickhouse"})
    yield
    for tenant in (tenant_a, tenant_b):
        clickhouse.tables_drop(tenant.schema_name)


def ch_uuids(tenant) -> list[str]:
    db = clickhouse.database_of(tenant.schema_name)
    exists = client().query("SELECT count() FROM system.tables WHERE database = {db:String}", {"db": db})[0][0]
    if not exists:
        return []
    return sorted(row[0] for row in client().query(f"SELECT toString(uuid) FROM `{db}`.events"))


def pg_count(tenant) -> int:
    """The events in PostgreSQL's table received since the test started (a live test's domain
    events recorded in this tenant may be there from before)."""
    return len(stored(tenant))


def send(tenant, key, events) -> list[str]:
    batch = [{"uuid": str(uuid.uuid4()), "timestamp": datetime.now(UTC).isoformat(), **e} for e in events]
    response = post_json(host_client(tenant), "/batch/", {"api_key": key, "batch": batch})
    assert response.status_code == 200, response.content
    return sorted(e["uuid"] for e in batch)


def log_in_and_sign_up(tenant, key) -> list[str]:
    """anon-1 logs in as user-1 ($identify merges them) and signs up."""
    return send(
        tenant,
        key,
        [
            {"event": "$identify", "distinct_id": "user-1", "properties": {"$anon_distinct_id": "anon-1"}},
            {"event": "signup", "distinct_id": "user-1"},
        ],
    )


def today_funnel(tenant) -> list[int]:
    day = datetime.now(UTC).astimezone(ZoneInfo(tenant.time_zone or "UTC")).date()
    data = {
        "kind": "funnel",
        "date_from": str(day),
        "date_to": str(day),
        "steps": [{"event": "view"}, {"event": "signup"}],
    }
    version_bump(tenant.schema_name)  # the writer bumps it on commit; the test's transaction never commits
    with schema_context(tenant.schema_name):
        return [s["count"] for s in selectors.query_answer(tenant=tenant, data=data)["result"]["steps"]]


def test_a_clickhouse_tenants_events_go_to_clickhouse_and_persons_merge_at_query_time(tenant_a, on_clickhouse):
    _, raw = project_key(tenant_a)
    uuids = send(
        tenant_a,
        raw,
        [
            {"event": "view", "distinct_id": "anon-1"},
            {"event": "view", "distinct_id": "anon-2"},
        ],
    )
    assert write(tenant_a) == 2
    assert ch_uuids(tenant_a) == uuids
    assert pg_count(tenant_a) == 0  # not in PostgreSQL's event table
    assert today_funnel(tenant_a) == [2, 0]
    # anon-1 logs in as user-1 and signs up: the merge happens after the view, and counts.
    uuids += log_in_and_sign_up(tenant_a, raw)
    write(tenant_a)
    assert ch_uuids(tenant_a) == sorted(uuids)
    assert today_funnel(tenant_a) == [2, 1]


def test_a_writer_that_dies_before_its_commit_stores_each_event_once(tenant_a, on_clickhouse):
    """The events reached ClickHouse, then the process died before PostgreSQL committed the
    uuids: the next writer inserts the same block again, and ClickHouse drops it."""
    _, raw = project_key(tenant_a)
    uuids = send(tenant_a, raw, [{"event": "view", "distinct_id": f"d{i}"} for i in range(5)])
    schema = tenant_a.schema_name
    claim = queue.Claim(schema, 30)

    class Killed(Exception):
        pass

    with schema_context(schema), pytest.raises(Killed), transaction.atomic():
        services.blobs_write(claim.take(20))
        assert ch_uuids(tenant_a) == uuids  # in ClickHouse already
        raise Killed  # ... no commit, no done()
    assert queue.recover(schema, now=datetime.now(UTC).timestamp() + 31) == 1
    assert write(tenant_a) == 5
    assert ch_uuids(tenant_a) == uuids  # once each


def test_a_writer_that_dies_after_its_commit_writes_nothing_twice(tenant_a, on_clickhouse):
    _, raw = project_key(tenant_a)
    uuids = send(tenant_a, raw, [{"event": "view", "distinct_id": "d0"}])
    schema = tenant_a.schema_name
    claim = queue.Claim(schema, 30)
    with schema_context(schema):
        services.blobs_write(claim.take(20))  # committed, killed before done()
    queue.recover(schema, now=datetime.now(UTC).timestamp() + 31)
    assert write(tenant_a) == 0
    assert ch_uuids(tenant_a) == uuids


def test_tenant_b_never_sees_tenant_as_events(tenant_a, tenant_b, on_clickhouse):
    _, raw = project_key(tenant_a)
    send(tenant_a, raw, [{"event": "view", "distinct_id": "same-id"}])
    write(tenant_a)
    with schema_context(tenant_b.schema_name):
        EventStoreChoice.objects.get(pk=1)  # B is on ClickHouse too, with the same distinct id
    assert clickhouse.database_of(tenant_a.schema_name) != clickhouse.database_of(tenant_b.schema_name)
    assert today_funnel(tenant_a) == [1, 0]
    assert today_funnel(tenant_b) == [0, 0]
    assert ch_uuids(tenant_b) == []


def test_a_tenants_history_moves_to_clickhouse_and_capture_waits_meanwhile(tenant_a):
    _, raw = project_key(tenant_a)
    before = send(tenant_a, raw, [{"event": "view", "distinct_id": "anon-1"}, {"event": "view", "distinct_id": "x"}])
    before += log_in_and_sign_up(tenant_a, raw)
    write(tenant_a)
    assert pg_count(tenant_a) == 4
    schema = tenant_a.schema_name
    try:
        # While a move is under way, writers leave new events in the queue.
        with schema_context(schema):
            EventStoreChoice.objects.create(pk=1, store="postgres", moving=True)
        during = send(tenant_a, raw, [{"event": "view", "distinct_id": "late"}])
        assert write(tenant_a) == 0 and queue.length(schema) == 1
        out = io.StringIO()
        call_command("analytics_move_store", "--tenant", tenant_a.slug, "--to", "clickhouse", stdout=out)
        assert "Moved 4 events" in out.getvalue()
        with schema_context(schema):
            assert store_choice() == ("clickhouse", False)
        write(tenant_a)  # the writer the move sent (run here by hand)
        assert ch_uuids(tenant_a) == sorted(before + during)
        assert pg_count(tenant_a) == 4  # the late event went to ClickHouse only
        assert today_funnel(tenant_a) == [3, 1]  # persons came along, merged (and "late" viewed)
    finally:
        clickhouse.tables_drop(schema)


def test_moving_to_the_store_a_tenant_already_uses_is_refused(tenant_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="already in postgres"):
        call_command("analytics_move_store", "--tenant", tenant_a.slug, "--to", "postgres", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No tenant"):
        call_command("analytics_move_store", "--tenant", "nobody", "--to", "clickhouse", stdout=io.StringIO())
    assert connection.schema_name == "public"


TRICKY = ["it's", "back\\slash", "tab\\tx", "nl\nx", "real\ttab", "é€😀", "{p0:String}", "end\\"]


def test_texts_reach_clickhouse_as_they_are():
    """Query parameters: quotes, backslashes, newlines and braces arrive unchanged (chDB reads
    them in ClickHouse's escaped form, which the client writes)."""
    from apps.analytics.stores.chqueries import Params, run

    for text in TRICKY:
        p = Params()
        assert run(f"SELECT {p(text, 'String')}", p) == [[text]]
    p = Params()
    assert run(f"SELECT {p(TRICKY, 'Array(String)')}", p) == [[TRICKY]]


def test_tricky_names_and_values_count_the_same_on_both_stores(tenant_a, engine):
    from datetime import date

    from apps.analytics.queries.shapes import Breakdown, Filter, Range, Series, TrendsQuery

    from .querydata import TZ, loaded

    at = datetime(2026, 3, 5, 15, tzinfo=UTC)
    events = [
        {
            "timestamp": at,
            "uuid": str(uuid.UUID(int=i + 1)),
            "event": name,
            "distinct_id": "d0",
            "properties": {"k\\": name},
        }
        for i, name in enumerate(TRICKY)
    ]
    day = Range(date(2026, 3, 5), date(2026, 3, 5))
    with schema_context(tenant_a.schema_name), loaded(events, {"d0": (0, {})}, engine):
        for name in TRICKY:
            query = TrendsQuery(
                range=day,
                series=(Series(name),),
                filters=(Filter("event", "k\\", "eq", name),),
                breakdown=Breakdown("k\\"),
            )
            assert engine.trends(query, tz=TZ)["series"] == [
                {"event": name, "math": "total", "values": [1], "breakdown_value": name}
            ]


def test_while_clickhouse_is_down_events_wait_in_the_queue(tenant_a, on_clickhouse, settings):
    """A store that cannot be reached is not a bad batch: the blobs go back to the queue (not to
    the dead letters) and are written once ClickHouse answers again."""
    from django_redis import get_redis_connection

    from apps.analytics.stores.chclient import ClickHouseError

    _, raw = project_key(tenant_a)
    uuids = send(tenant_a, raw, [{"event": "view", "distinct_id": "d0"}])
    embedded = settings.HUB_ANALYTICS_CLICKHOUSE_URL
    settings.HUB_ANALYTICS_CLICKHOUSE_URL = "http://127.0.0.1:9/"  # nothing listens there
    clickhouse._made.clear()
    with pytest.raises(ClickHouseError):
        write(tenant_a)
    schema = tenant_a.schema_name
    assert queue.length(schema) == 1
    assert get_redis_connection("default").llen(services.DEAD_LETTERS.format(schema=schema)) == 0
    settings.HUB_ANALYTICS_CLICKHOUSE_URL = embedded
    assert write(tenant_a) == 1
    assert ch_uuids(tenant_a) == uuids


def test_paths_and_a_static_cohort_count_a_merged_person_once_on_clickhouse(tenant_a, tenant_b, on_clickhouse):
    """anon-1 views, logs in as user-1 (a merge), signs up and views again; anon-2 views. A
    static cohort lists anon-1 only: through the real writer and query path, the cohort's person
    is the merged one (their views as user-1 count, as one person), and paths follow them."""
    from apps.analytics.models import Cohort, CohortMember

    _, raw = project_key(tenant_a)
    send(tenant_a, raw, [{"event": "view", "distinct_id": "anon-1"}, {"event": "view", "distinct_id": "anon-2"}])
    write(tenant_a)
    log_in_and_sign_up(tenant_a, raw)
    write(tenant_a)
    send(tenant_a, raw, [{"event": "view", "distinct_id": "user-1"}])
    write(tenant_a)
    day = str(datetime.now(UTC).astimezone(ZoneInfo(tenant_a.time_zone or "UTC")).date())

    def answer(tenant, data):
        version_bump(tenant.schema_name)
        with schema_context(tenant.schema_name):
            return selectors.query_answer(tenant=tenant, data={"date_from": day, "date_to": day, **data})["result"]

    with schema_context(tenant_a.schema_name):
        cohort = Cohort.objects.create(name="early", kind=Cohort.STATIC)
        CohortMember.objects.create(cohort=cohort, distinct_id="anon-1")
    in_cohort = [{"type": "cohort", "op": "in", "value": cohort.pk}]
    views = {"kind": "trends", "series": [{"event": "view", "math": "unique_persons"}, {"event": "view"}]}
    assert [s["values"] for s in answer(tenant_a, {**views, "filters": in_cohort})["series"]] == [[1], [2]]
    not_in = [{"type": "cohort", "op": "not_in", "value": cohort.pk}]
    assert [s["values"] for s in answer(tenant_a, {**views, "filters": not_in})["series"]] == [[1], [1]]
    path = {"kind": "paths", "start_event": "view", "steps": 3, "exclude_events": ["$identify"]}
    assert answer(tenant_a, {**path, "filters": in_cohort})["links"] == [
        {"source": "0_view", "target": "1_signup", "value": 1},
        {"source": "1_signup", "target": "2_view", "value": 1},
    ]
    assert answer(tenant_a, path)["paths"] == 2
    assert answer(tenant_b, path) == {"paths": 0, "nodes": [], "links": []}


def test_a_rule_based_cohorts_members_count_a_clickhouse_tenants_events(tenant_a, on_clickhouse):
    """ "Viewed at least twice in the last 30 days": anon-1 viewed once, then (as user-1, the
    same person) once more; anon-2 once. Only the merged person is in it, though PostgreSQL's
    event table of the tenant holds none of these events."""
    from apps.analytics.models import Cohort

    _, raw = project_key(tenant_a)
    send(tenant_a, raw, [{"event": "view", "distinct_id": "anon-1"}, {"event": "view", "distinct_id": "anon-2"}])
    log_in_and_sign_up(tenant_a, raw)
    send(tenant_a, raw, [{"event": "view", "distinct_id": "user-1"}])
    write(tenant_a)
    with schema_context(tenant_a.schema_name):
        cohort = Cohort.objects.create(
            name="twice", kind=Cohort.RULES, behaviours=[{"event": "view", "min_count": 2, "days": 30}]
        )
        members = list(selectors.cohort_persons(cohort=cohort))
        assert [sorted(d.distinct_id for d in m.distinct_ids.all()) for m in members] == [["anon-1", "user-1"]]
        assert pg_count(tenant_a) == 0


def test_a_static_cohort_too_large_for_clickhouse_is_refused_in_words(tenant_a, engine, monkeypatch):
    """Past STATIC_COHORT_MAX listed persons a ClickHouse query says why it cannot run (a 422
    naming query.filters), rather than hang; PostgreSQL answers."""
    from datetime import date

    from django.core.exceptions import ValidationError

    from apps.analytics.models import Cohort, CohortMember
    from apps.analytics.queries.shapes import CohortRule, Filter, Range, Series, TrendsQuery
    from apps.analytics.stores import chqueries

    from .querydata import TZ, event_at, loaded

    monkeypatch.setattr(chqueries, "STATIC_COHORT_MAX", 1)
    at = datetime(2026, 3, 5, 15, tzinfo=UTC)
    events = [event_at(1, "view", "d0", at), event_at(2, "view", "d1", at)]
    with schema_context(tenant_a.schema_name), loaded(events, {"d0": (0, {}), "d1": (1, {})}, engine):
        cohort = Cohort.objects.create(name="two", kind=Cohort.STATIC)
        CohortMember.objects.bulk_create([CohortMember(cohort=cohort, distinct_id=d) for d in ("d0", "d1")])
        f = Filter("cohort", "", "in", cohort.pk, cohort=CohortRule(id=cohort.pk, static=True))
        query = TrendsQuery(range=Range(date(2026, 3, 5), date(2026, 3, 5)), series=(Series("view"),), filters=(f,))
        if engine.name == "postgres":
            assert engine.trends(query, tz=TZ)["series"][0]["values"] == [2]
            return
        with pytest.raises(ValidationError) as refused:
            engine.trends(query, tz=TZ)
        assert "more than 1 persons" in refused.value.message_dict["query.filters"][0]


def test_deleting_a_clickhouse_tenant_drops_its_clickhouse_database_once_committed(
    django_capture_on_commit_callbacks,
):
    from apps.identity.services import organisation_provision
    from apps.tenancy.services import tenant_delete

    tenant, _ = organisation_provision(name="Leaving CH", slug="leaving-ch", owner_email="leaving-ch@example.com")
    with schema_context(tenant.schema_name):
        EventStoreChoice.objects.update_or_create(pk=1, defaults={"store": "clickhouse"})
    _, raw = project_key(tenant)
    send(tenant, raw, [{"event": "view", "distinct_id": "d1"}])
    assert write(tenant) == 1 and len(ch_uuids(tenant)) == 1
    db = clickhouse.database_of(tenant.schema_name)

    def databases() -> int:
        return client().query("SELECT count() FROM system.databases WHERE name = {db:String}", {"db": db})[0][0]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tenant_delete(tenant=tenant)
    assert databases() == 1  # not before the deletion commits: a rolled-back one keeps its events
    for callback in callbacks:
        callback()
    assert databases() == 0
