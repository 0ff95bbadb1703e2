"""Trends in SQL give exactly what the plain reference gives, on random event sets."""

from datetime import date

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.analytics.queries.shapes import Breakdown, Range, Series, TrendsQuery

from . import reference
from .querydata import EVENT_NAMES, FIRST_DAY, TZ, events, filters, persons

pytestmark = pytest.mark.django_db

ranges = st.tuples(st.integers(0, 5), st.integers(0, 5)).map(
    lambda p: Range(FIRST_DAY.replace(day=FIRST_DAY.day + min(p)), FIRST_DAY.replace(day=FIRST_DAY.day + max(p)))
)
series = st.builds(
    Series,
    event=st.sampled_from(EVENT_NAMES),
    math=st.sampled_from(["total", "unique_persons", "sum", "avg"]),
    property=st.just("amount"),
    filters=st.lists(filters, max_size=1).map(tuple),
)
queries = st.builds(
    TrendsQuery,
    range=ranges,
    series=st.lists(series, min_size=1, max_size=2).map(tuple),
    interval=st.sampled_from(["hour", "day", "week", "month"]),
    breakdown=st.one_of(
        st.none(),
        st.builds(
            Breakdown,
            property=st.sampled_from(["plan", "flag"]),
            type=st.sampled_from(["event", "person"]),
            limit=st.integers(1, 3),
        ),
    ),
    compare=st.booleans(),
    filters=st.lists(filters, max_size=2).map(tuple),
    exclude_test_accounts=st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event_list=events(), person_map=persons(), query=queries)
def test_trends_match_the_reference(tenant_a, engine, event_list, person_map, query):
    from .querydata import loaded

    with schema_context(tenant_a.schema_name), loaded(event_list, person_map, engine):
        assert engine.trends(query, tz=TZ) == reference.trends(query, event_list, person_map, TZ)


def test_a_daily_count_in_the_tenants_time_zone(tenant_a, engine):
    """An event at 23:30 New York time on the 5th counts on the 5th, not on UTC's 6th."""
    from datetime import UTC, datetime

    from .querydata import loaded

    event = {
        "timestamp": datetime(2026, 3, 6, 4, 30, tzinfo=UTC),
        "uuid": "00000000-0000-4000-8000-000000000001",
        "event": "view",
        "distinct_id": "d0",
        "properties": {},
    }
    query = TrendsQuery(range=Range(date(2026, 3, 5), date(2026, 3, 6)), series=(Series("view"),))
    with schema_context(tenant_a.schema_name), loaded([event], {"d0": (0, {})}, engine):
        assert engine.trends(query, tz=TZ) == {
            "labels": ["2026-03-05", "2026-03-06"],
            "series": [{"event": "view", "math": "total", "values": [1, 0]}],
        }


def test_the_event_table_has_the_queries_index_also_when_made_before_it(tenant_a):
    from django.db import connection

    from apps.analytics import services, storage

    def indexed():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT array_agg(indexname::text ORDER BY indexname) FROM pg_indexes "
                "WHERE schemaname = %s AND tablename = 'analytics_event' "
                "AND indexname LIKE 'analytics_event_event_ts%%'",
                [tenant_a.schema_name],
            )
            # the covering index alone: the ones it replaced are dropped
            return cursor.fetchone()[0] == ["analytics_event_event_ts_person"]

    with schema_context(tenant_a.schema_name):
        storage.event_table_ensure()
        assert indexed()
        with connection.cursor() as cursor:
            # a table of before the index, of when it was (event, "timestamp") alone, and of when it
            # covered no person
            cursor.execute("DROP INDEX analytics_event_event_ts_person")
            cursor.execute('CREATE INDEX analytics_event_event_ts ON analytics_event (event, "timestamp")')
            cursor.execute(
                "CREATE INDEX analytics_event_event_ts_cover ON analytics_event "
                '(event, "timestamp") INCLUDE (distinct_id, uuid)'
            )
        assert not indexed()
        services.partitions_maintain()
        assert indexed()
