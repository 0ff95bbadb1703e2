"""Rollups answer exactly what the raw engine (and the plain reference) answers, for every query
they serve: on random event sets, in several time zones, with events arriving late and persons
merged after their events; a rebuild equals what the writer kept; tenants apart."""

import io
import uuid as uuid_module
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.analytics import rollups, services, storage
from apps.analytics.models import PersonDistinctId
from apps.analytics.queries.retention import retention
from apps.analytics.queries.run import answer
from apps.analytics.queries.shapes import Range, RetentionQuery, Series, TrendsQuery
from apps.analytics.queries.trends import trends
from apps.analytics.stores.postgres import PostgresStore

from . import reference
from .querydata import DISTINCT_IDS, EVENT_NAMES, TZ, events, loaded, persons
from .test_queries_retention import queries as retention_queries
from .test_queries_trends import ranges

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

served_trends = st.builds(
    TrendsQuery,
    range=ranges,
    series=st.lists(
        st.builds(Series, event=st.sampled_from(EVENT_NAMES), math=st.sampled_from(["total", "unique_persons"])),
        min_size=1,
        max_size=2,
    ).map(tuple),
    interval=st.sampled_from(["day", "week", "month"]),
    compare=st.booleans(),
)
# The raw retention tests' queries, without what the rollups leave to raw events.
served_retention = retention_queries.map(lambda q: replace(q, filters=(), exclude_test_accounts=False))

STORE = PostgresStore()  # the rollups sit beside PostgreSQL's events


class _Rollback(Exception):
    pass


def _rebuilt_in(zone):
    rollups.rollups_rebuild(time_zone=zone.key)


@pytest.fixture
def tenant_in_new_york(tenant_a):
    """tenant_a with the time zone of the random event sets (rolled back with the test)."""
    from apps.tenancy.models import Tenant

    Tenant.objects.filter(pk=tenant_a.pk).update(time_zone=TZ.key)
    return tenant_a


@HYPOTHESIS
@given(event_list=events(), person_map=persons(), query=served_trends)
def test_trends_from_rollups_match_the_reference(tenant_in_new_york, event_list, person_map, query):
    """As the writer keeps them (querydata.loaded adds the events as the writer does)."""
    with schema_context(tenant_in_new_york.schema_name), loaded(event_list, person_map):
        if storage.rollup_state()[0] != TZ.key:  # an event table kept from before (a reused test database)
            _rebuilt_in(TZ)
        result = answer(query, TZ, STORE)
        assert result["source"] == "rollup"
        assert result["result"] == reference.trends(query, event_list, person_map, TZ)


@HYPOTHESIS
@given(event_list=events(), person_map=persons(), query=served_retention)
def test_retention_from_rollups_matches_the_reference(tenant_a, event_list, person_map, query):
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map):
        _rebuilt_in(TZ)
        result = answer(query, TZ, STORE)
        assert result["source"] == "rollup"
        assert result["result"] == reference.retention(query, event_list, person_map, TZ)


@HYPOTHESIS
@given(
    event_list=events(),
    person_map=persons(),
    query=served_trends,
    zone=st.sampled_from(["Asia/Tokyo", "Europe/London", "America/Los_Angeles", "UTC"]),
)
def test_total_counts_serve_any_whole_hour_time_zone(tenant_a, event_list, person_map, query, zone):
    """The rollups are in New York time; totals in another whole-hour zone still come from them,
    unique persons (kept by New York days) from raw events; both equal the reference."""
    tz = ZoneInfo(zone)
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map):
        _rebuilt_in(TZ)
        result = answer(query, tz, STORE)
        uniques = any(s.math == "unique_persons" for s in query.series)
        assert result["source"] == ("raw" if uniques and zone != TZ.key else "rollup")
        assert result["result"] == reference.trends(query, event_list, person_map, tz)


def test_a_half_hour_time_zone_falls_back_to_raw_events(tenant_a):
    query = TrendsQuery(range=Range(date(2026, 3, 5), date(2026, 3, 6)), series=(Series("view"),))
    event = _event(1, "view", "d0", datetime(2026, 3, 5, 20, 15, tzinfo=UTC))
    with schema_context(tenant_a.schema_name), loaded([event], {"d0": (0, {})}):
        for zone, source in (("Asia/Kolkata", "raw"), ("Asia/Kathmandu", "raw"), ("Asia/Tokyo", "rollup")):
            result = answer(query, ZoneInfo(zone), STORE)
            assert result["source"] == source, zone
            assert result["result"] == trends(query, tz=ZoneInfo(zone))


def test_filters_breakdowns_sums_and_hourly_uniques_fall_back_to_raw_events(tenant_a):
    from apps.analytics.queries.shapes import Breakdown, Filter

    rng = Range(date(2026, 3, 5), date(2026, 3, 6))
    raw = [
        TrendsQuery(range=rng, series=(Series("view"),), filters=(Filter("event", "plan", "eq", "pro"),)),
        TrendsQuery(range=rng, series=(Series("view"),), breakdown=Breakdown("plan")),
        TrendsQuery(range=rng, series=(Series("view", "sum", "amount"),)),
        TrendsQuery(range=rng, series=(Series("view", "unique_persons"),), interval="hour"),
        TrendsQuery(range=rng, series=(Series("view"),), exclude_test_accounts=True),
    ]
    with schema_context(tenant_a.schema_name), loaded([], {}):
        _rebuilt_in(TZ)
        assert [answer(q, TZ, STORE)["source"] for q in raw] == ["raw"] * len(raw)
        hourly_total = TrendsQuery(range=rng, series=(Series("view"),), interval="hour")
        assert answer(hourly_total, TZ, STORE)["source"] == "rollup"


# --- The writer keeps them: late events, merges, retries; a rebuild equals them ------------------

writes = st.lists(
    st.tuples(
        st.sampled_from(EVENT_NAMES + ["$identify"]),
        st.sampled_from(DISTINCT_IDS),
        st.sampled_from(DISTINCT_IDS),
        st.integers(0, 6 * 86400),
    ),
    min_size=1,
    max_size=30,
)
START = datetime(2026, 3, 5, tzinfo=TZ).astimezone(UTC)


def _row(n, name, distinct_id, other, second):
    at = (START + timedelta(seconds=second)).isoformat()
    change = {"merge": other} if name == "$identify" else None
    props = {"$anon_distinct_id": other} if change else {}
    return [
        at,
        str(uuid_module.UUID(int=n + 1, version=4)),
        name,
        distinct_id,
        orjson.dumps(props).decode(),
        at,
        change,
    ]


def _snapshot():
    out = {}
    for table in (
        storage.HOURLY,
        storage.DAILY_PERSONS,
        storage.DAILY_UNIQUES,
        storage.FIRST_DAYS,
        storage.PERIOD_PERSONS,
        storage.PERIOD_BITS,
    ):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {storage.qualified(table)}")
            out[table] = sorted(cursor.fetchall())
    return out


def _stored_events():
    with connection.cursor() as cursor:
        cursor.execute('SELECT "timestamp", uuid::text, event, distinct_id FROM analytics_event')
        return [{"timestamp": t, "uuid": u, "event": e, "distinct_id": d, "properties": {}} for t, u, e, d in cursor]


@HYPOTHESIS
@given(
    batches=st.lists(writes, min_size=1, max_size=4),
    query=served_trends,
    retention_query=served_retention,
    resend=st.booleans(),
)
def test_what_the_writer_keeps_equals_a_rebuild_and_the_reference(tenant_a, batches, query, retention_query, resend):
    """Batches written in turn (late events among them: times are random), persons merged by
    $identify after their events, a batch sent twice (a retried task): the rollups the writer
    kept equal a rebuild's, and answer as the reference does over the persons as merged."""
    with schema_context(tenant_a.schema_name):
        try:
            with transaction.atomic():
                storage.event_table_ensure()
                rollups.rollups_rebuild(time_zone=TZ.key)
                n = 0
                for batch in batches:
                    rows = []
                    for item in batch:
                        rows.append(_row(n, *item))
                        n += 1
                    services.rows_write(rows)
                    if resend:
                        services.rows_write(rows)  # the same uuids: nothing counts twice
                kept = _snapshot()
                person_map = {d: (p, {}) for d, p in PersonDistinctId.objects.values_list("distinct_id", "person_id")}
                event_list = _stored_events()
                result = answer(query, TZ, STORE)
                assert result["source"] == "rollup"
                assert result["result"] == reference.trends(query, event_list, person_map, TZ)
                result = answer(retention_query, TZ, STORE)
                assert result["source"] == "rollup"
                assert result["result"] == reference.retention(retention_query, event_list, person_map, TZ)
                rollups.rollups_rebuild(time_zone=TZ.key)
                assert _snapshot() == kept
                raise _Rollback
        except _Rollback:
            pass


def _event(n, name, distinct_id, at):
    return {"timestamp": at, "uuid": f"00000000-0000-4000-8000-{n:012d}", "event": name,
            "distinct_id": distinct_id, "properties": {}}  # fmt: skip


def _queue_row(event, change=None):
    at = event["timestamp"].isoformat()
    return [at, event["uuid"], event["event"], event["distinct_id"], "{}", at, change]


def test_a_late_event_updates_its_past_hour_and_a_merge_makes_two_persons_one(tenant_a):
    day = Range(date(2026, 3, 5), date(2026, 3, 5))
    totals = TrendsQuery(range=day, series=(Series("view"), Series("view", "unique_persons")))
    noon = datetime(2026, 3, 5, 12, tzinfo=TZ)
    with schema_context(tenant_a.schema_name), loaded([], {}):
        _rebuilt_in(TZ)
        services.rows_write([_queue_row(_event(1, "view", "anon", noon)), _queue_row(_event(2, "view", "user", noon))])
        assert [s["values"] for s in answer(totals, TZ, STORE)["result"]["series"]] == [[2], [2]]
        late = _event(3, "view", "anon", noon - timedelta(hours=5))  # arrives after, happened before
        services.rows_write([_queue_row(late)])
        assert [s["values"] for s in answer(totals, TZ, STORE)["result"]["series"]] == [[3], [2]]
        # The next day "user" identifies as "anon": they were one person all along.
        identify = _event(4, "$identify", "user", noon + timedelta(days=1))
        services.rows_write([_queue_row(identify, {"merge": "anon"})])
        result = answer(totals, TZ, STORE)
        assert result["source"] == "rollup"
        assert [s["values"] for s in result["result"]["series"]] == [[3], [1]]
        assert result["result"] == trends(totals, tz=TZ)


def test_retention_counts_a_merged_person_once(tenant_a):
    query = RetentionQuery(range=Range(date(2026, 3, 5), date(2026, 3, 6)), start_event="view", return_event="view")
    at = datetime(2026, 3, 5, 12, tzinfo=TZ)
    with schema_context(tenant_a.schema_name), loaded([], {}):
        _rebuilt_in(TZ)
        services.rows_write([_queue_row(_event(1, "view", "anon", at)), _queue_row(_event(2, "view", "user", at))])
        services.rows_write([_queue_row(_event(3, "view", "user", at + timedelta(days=1)), {"merge": "anon"})])
        result = answer(query, TZ, STORE)
        assert result["source"] == "rollup"
        assert result["result"]["cohorts"][0]["values"][:2] == [1, 1]
        assert result["result"] == retention(query, tz=TZ)


def test_rollups_of_a_tenant_hold_only_its_events(tenant_a, tenant_b):
    query = TrendsQuery(range=Range(date(2026, 3, 5), date(2026, 3, 5)), series=(Series("view"),))
    with schema_context(tenant_a.schema_name), loaded([], {}):
        _rebuilt_in(TZ)
        services.rows_write([_queue_row(_event(1, "view", "anon", datetime(2026, 3, 5, 12, tzinfo=TZ)))])
        assert answer(query, TZ, STORE)["result"]["series"][0]["values"] == [1]
        with schema_context(tenant_b.schema_name), loaded([], {}):
            result = answer(query, TZ, STORE)
            assert (result["source"], result["result"]["series"][0]["values"]) == ("rollup", [0])


ONE_VIEW = _event(1, "view", "d0", datetime(2026, 3, 5, 12, tzinfo=TZ))


def test_rollups_of_events_stored_before_them_are_not_used_until_built(tenant_a):
    query = TrendsQuery(range=Range(date(2026, 3, 5), date(2026, 3, 5)), series=(Series("view"),))
    with schema_context(tenant_a.schema_name), loaded([ONE_VIEW], {"d0": (0, {})}):
        with connection.cursor() as cursor:
            tables = (storage.STATE, storage.HOURLY, storage.DAILY_PERSONS, storage.DAILY_UNIQUES, storage.FIRST_DAYS,
                      storage.PERIOD_PERSONS, storage.PERIOD_BITS)  # fmt: skip
            cursor.execute(f"DROP TABLE {', '.join(storage.qualified(t) for t in tables)}")  # as before rollups
        assert services.rollups_stale()
        assert answer(query, TZ, STORE)["source"] == "raw"
        services.rollups_rebuild()
        assert not services.rollups_stale()
        assert answer(query, ZoneInfo("UTC"), STORE)["result"]["series"][0]["values"] == [1]


def test_the_rebuild_command_shows_progress_and_names_an_unknown_tenant(tenant_a):
    with schema_context(tenant_a.schema_name), loaded([ONE_VIEW], {"d0": (0, {})}):
        out = io.StringIO()
        call_command("analytics_rollups_rebuild", "--tenant", tenant_a.slug, stdout=out)
        text = out.getvalue()
        assert "[########################] 100%" in text
        assert "Rollups rebuilt from 1 events." in text
    with pytest.raises(CommandError, match="No tenant with the slug"):
        call_command("analytics_rollups_rebuild", "--tenant", "no-such-tenant")


def test_unique_persons_over_whole_weeks_and_months_read_the_period_rollup(tenant_a):
    """Activity just outside the range (the Sunday before, the day after) is in the same
    weeks/months of the period rollup only when the range is not whole periods: both agree with
    the raw engine."""
    days = [(2, 28), (3, 8), (3, 9), (3, 15), (3, 16), (3, 31), (4, 1)]
    evs = [_event(i + 1, "view", f"d{i % 3}", datetime(2026, m, d, 12, tzinfo=TZ)) for i, (m, d) in enumerate(days)]
    person_map = {f"d{i}": (i, {}) for i in range(3)}
    queries = [
        TrendsQuery(range=Range(date(2026, 3, 9), date(2026, 3, 15)), series=(Series("view", "unique_persons"),),
                    interval="week"),
        TrendsQuery(range=Range(date(2026, 3, 1), date(2026, 3, 31)), series=(Series("view", "unique_persons"),),
                    interval="month"),
        TrendsQuery(range=Range(date(2026, 3, 10), date(2026, 3, 16)), series=(Series("view", "unique_persons"),),
                    interval="week"),
    ]  # fmt: skip
    with schema_context(tenant_a.schema_name), loaded(evs, person_map):
        _served_as_raw_and_reference(queries, evs, person_map)


def _served_as_raw_and_reference(queries, evs, person_map):
    """After a rebuild, each query is answered from the rollups as the raw engine and the reference answer it."""
    _rebuilt_in(TZ)
    for query in queries:
        result = answer(query, TZ, STORE)
        assert result["source"] == "rollup"
        raw, ref = (trends, reference.trends) if isinstance(query, TrendsQuery) else (retention, reference.retention)
        assert result["result"] == raw(query, tz=TZ) == ref(query, evs, person_map, TZ)


def test_weekly_and_monthly_retention_across_a_bitmap_blocks_end(tenant_a):
    """The period bitmaps hold 64 weeks (months) a row: the week of 26 Jan 2026 is the last of a
    block and September 2026 the first month of one; returns on both sides of the boundary count,
    as the raw engine and the reference count them, also after a merge moves a person's bits."""
    week_end = date(2026, 1, 26)
    assert storage.period_number_of(week_end, "w") % 64 == 63
    assert storage.period_number_of(date(2026, 9, 1), "m") % 64 == 0
    seen = [("d0", 1, 27), ("d0", 2, 3), ("d0", 2, 17), ("d1", 1, 28), ("d1", 2, 10), ("d2", 2, 3),
            ("d0", 8, 20), ("d0", 9, 20), ("d1", 8, 21)]  # fmt: skip
    evs = [_event(i + 1, "view", d, datetime(2026, m, day, 12, tzinfo=TZ)) for i, (d, m, day) in enumerate(seen)]
    person_map = {"d0": (0, {}), "d1": (1, {}), "d2": (2, {})}
    queries = [
        RetentionQuery(range=Range(date(2026, 1, 26), date(2026, 2, 8)), start_event="view", return_event="view",
                       period="week", periods=5),
        RetentionQuery(range=Range(date(2026, 8, 1), date(2026, 8, 31)), start_event="view", return_event="view",
                       period="month", periods=3, retention_type="recurring"),
    ]  # fmt: skip
    with schema_context(tenant_a.schema_name), loaded(evs, person_map):
        _served_as_raw_and_reference(queries, evs, person_map)
        assert answer(queries[0], TZ, STORE)["result"]["cohorts"][0]["values"][:4] == [2, 1, 1, 1]
        assert answer(queries[1], TZ, STORE)["result"]["cohorts"][0]["values"] == [2, 1, 0]
        # "d2" (seen on 3 Feb) becomes "d1": the merged person came back in the first week after too
        services.rows_write([_queue_row(_event(20, "view", "d1", datetime(2026, 3, 20, 12, tzinfo=TZ)),
                                        {"merge": "d2"})])  # fmt: skip
        merged = {**person_map, "d2": (1, {})}
        events_now = [*evs, _event(20, "view", "d1", datetime(2026, 3, 20, 12, tzinfo=TZ))]
        result = answer(queries[0], TZ, STORE)
        assert result["result"]["cohorts"][0]["values"][:4] == [2, 2, 1, 1]
        assert result["result"] == reference.retention(queries[0], events_now, merged, TZ)


def test_rollups_older_than_the_period_bits_get_them_from_the_writer(tenant_a):
    """A tenant whose rollups were made before period_bits: the next batch the writer stores makes
    the table from period_persons (nothing rebuilt, still built), and adds its own events."""
    query = RetentionQuery(range=Range(date(2026, 3, 2), date(2026, 3, 8)), start_event="view", return_event="view",
                           period="week", periods=3)  # fmt: skip
    first = _event(1, "view", "d0", datetime(2026, 3, 5, 12, tzinfo=TZ))
    with schema_context(tenant_a.schema_name), loaded([first], {"d0": (0, {})}):
        _rebuilt_in(TZ)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {storage.qualified(storage.PERIOD_BITS)}")  # as before it existed
        assert answer(query, TZ, STORE)["source"] == "raw"
        services.rows_write([_queue_row(_event(2, "view", "d0", datetime(2026, 3, 19, 12, tzinfo=TZ)))])
        assert storage.rollup_state()[1] is not None  # still built
        result = answer(query, TZ, STORE)
        assert result["source"] == "rollup"
        assert result["result"]["cohorts"][0]["values"] == [1, 0, 1]
        kept = _snapshot()
        rollups.rollups_rebuild(time_zone=TZ.key)
        assert _snapshot() == kept
