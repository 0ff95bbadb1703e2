"""Funnels in SQL give exactly what the plain reference gives, on random event sets."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.analytics.queries.funnels import funnel, ordered_reached, ordered_walked
from apps.analytics.queries.shapes import Breakdown, FunnelQuery, PersonsPage, Range, Step

from . import reference
from .querydata import EVENT_NAMES, TZ, event_at, events, filters, loaded, persons
from .test_queries_trends import ranges

pytestmark = pytest.mark.django_db

steps = st.builds(Step, event=st.sampled_from(EVENT_NAMES), filters=st.lists(filters, max_size=1).map(tuple))
queries = st.builds(
    FunnelQuery,
    range=ranges,
    steps=st.lists(steps, min_size=2, max_size=4).map(tuple),
    order=st.sampled_from(["ordered", "strict", "any"]),
    # around a day, so the window's edge falls among the events
    window_seconds=st.sampled_from([3600, 86400, 86400 + 1, 2 * 86400, 14 * 86400]),
    breakdown=st.one_of(
        st.none(),
        st.builds(
            Breakdown,
            property=st.sampled_from(["plan", "flag"]),
            type=st.sampled_from(["event", "person"]),
            limit=st.integers(1, 3),
        ),
    ),
    filters=st.lists(filters, max_size=1).map(tuple),
    exclude_test_accounts=st.booleans(),
    persons=st.one_of(
        st.none(),
        st.builds(
            PersonsPage,
            step=st.integers(0, 3),
            status=st.sampled_from(["dropped", "reached"]),
            offset=st.integers(0, 2),
            limit=st.integers(1, 3),
        ),
    ),
)


def _uuids(made):
    return {key: person.uuid for key, person in made.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event_list=events(), person_map=persons(), query=queries)
def test_funnels_match_the_reference(tenant_a, engine, event_list, person_map, query):
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map, engine) as made:
        assert engine.funnel(query, tz=TZ) == reference.funnel(query, event_list, person_map, TZ, _uuids(made))


def test_a_person_merged_mid_funnel_converts_once(tenant_a, engine):
    """anon-1 views, then signs up as user-1: one person, converted."""
    events_ = [
        event_at(1, "view", "anon-1", datetime(2026, 3, 5, 15, tzinfo=UTC)),
        event_at(2, "signup", "user-1", datetime(2026, 3, 5, 16, tzinfo=UTC)),
        event_at(3, "view", "anon-2", datetime(2026, 3, 5, 17, tzinfo=UTC)),
    ]
    person_map = {"anon-1": (0, {}), "user-1": (0, {}), "anon-2": (1, {})}
    query = FunnelQuery(range=Range(date(2026, 3, 5), date(2026, 3, 5)), steps=(Step("view"), Step("signup")))
    with schema_context(tenant_a.schema_name), loaded(events_, person_map, engine) as made:
        result = engine.funnel(query, tz=TZ)
        assert [s["count"] for s in result["steps"]] == [2, 1]
        assert result["steps"][1]["conversion_rate"] == 0.5
        assert result["steps"][1]["median_seconds_from_previous"] == 3600
        dropped = engine.funnel(FunnelQuery(range=query.range, steps=query.steps, persons=PersonsPage(step=1)), tz=TZ)
        assert dropped == {"persons": [str(made[1].uuid)], "count": 1, "next_offset": None}


def test_the_conversion_window_is_inclusive(tenant_a, engine):
    events_ = [
        event_at(1, "view", "d0", datetime(2026, 3, 5, 15, tzinfo=UTC)),
        event_at(2, "signup", "d0", datetime(2026, 3, 5, 16, tzinfo=UTC)),
        event_at(3, "view", "d1", datetime(2026, 3, 5, 15, tzinfo=UTC)),
        event_at(4, "signup", "d1", datetime(2026, 3, 5, 16, 0, 1, tzinfo=UTC)),
    ]
    query = FunnelQuery(
        range=Range(date(2026, 3, 5), date(2026, 3, 5)), steps=(Step("view"), Step("signup")), window_seconds=3600
    )
    with schema_context(tenant_a.schema_name), loaded(events_, {"d0": (0, {}), "d1": (1, {})}, engine):
        assert [s["count"] for s in engine.funnel(query, tz=TZ)["steps"]] == [2, 1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event_list=events(max_size=60), person_map=persons(), query=queries.map(lambda q: replace(q, order="ordered")))
def test_ordered_funnels_walked_in_sql_match_the_reference(tenant_a, event_list, person_map, query):
    """Ordered funnels are walked in SQL (funnels.ordered_reached), the others in Python: more
    examples of the SQL walk."""
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map) as made:
        assert funnel(query, tz=TZ) == reference.funnel(query, event_list, person_map, TZ, _uuids(made))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event_list=events(max_size=60),
    person_map=persons(),
    query=queries.map(lambda q: replace(q, order="ordered", breakdown=None, persons=None)),
)
def test_ordered_funnels_walked_with_numpy_match_the_reference(tenant_a, event_list, person_map, query):
    """Ordered funnels without breakdown or persons page are walked with numpy over a binary COPY
    of the events that matter (funnels.ordered_walked); the SQL walk gives the same."""
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map) as made:
        expected = reference.funnel(query, event_list, person_map, TZ, _uuids(made))
        assert funnel(query, tz=TZ) == expected
        depths, times = ordered_walked(query, tz=TZ)
        walked = [(d, [int(times[k][i]) for k in range(d)]) for i, d in enumerate(depths.tolist())]
        assert sorted(walked) == sorted((depth, times) for _, depth, times, _ in ordered_reached(query, tz=TZ))
