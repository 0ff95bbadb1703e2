"""Retention in SQL gives exactly what the plain reference gives, on random event sets."""

from datetime import UTC, date, datetime

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.analytics.queries.shapes import Range, RetentionQuery

from . import reference
from .querydata import EVENT_NAMES, TZ, events, filters, loaded, persons
from .test_queries_trends import ranges

pytestmark = pytest.mark.django_db

queries = st.builds(
    RetentionQuery,
    range=ranges,
    start_event=st.sampled_from(EVENT_NAMES),
    return_event=st.sampled_from(EVENT_NAMES),
    period=st.sampled_from(["day", "week", "month"]),
    periods=st.integers(1, 5),
    retention_type=st.sampled_from(["first_time", "recurring"]),
    filters=st.lists(filters, max_size=1).map(tuple),
    exclude_test_accounts=st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event_list=events(), person_map=persons(), query=queries)
def test_retention_matches_the_reference(tenant_a, engine, event_list, person_map, query):
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map, engine):
        assert engine.retention(query, tz=TZ) == reference.retention(query, event_list, person_map, TZ)


def test_first_time_cohorts_count_a_person_once(tenant_a, engine):
    def event(n, name, day, hour):
        return {
            "timestamp": datetime(2026, 3, day, hour, tzinfo=UTC),
            "uuid": f"00000000-0000-4000-8000-{n:012d}",
            "event": name,
            "distinct_id": "d0",
            "properties": {},
        }

    events_ = [event(1, "view", 5, 15), event(2, "view", 6, 15), event(3, "view", 7, 15)]
    query = RetentionQuery(
        range=Range(date(2026, 3, 5), date(2026, 3, 6)), start_event="view", return_event="view", periods=3
    )
    with schema_context(tenant_a.schema_name), loaded(events_, {"d0": (0, {})}, engine):
        assert engine.retention(query, tz=TZ) == {
            "cohorts": [
                {"label": "2026-03-05", "persons": 1, "values": [1, 1, 1]},
                {"label": "2026-03-06", "persons": 0, "values": [0, 0, 0]},
            ]
        }
