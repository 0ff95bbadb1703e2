"""Paths in SQL give exactly what the plain reference gives, on random event sets."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.analytics.queries.shapes import PathsQuery, Range

from . import reference
from .querydata import EVENT_NAMES, TZ, event_at, events, filters, loaded, persons
from .test_queries_trends import ranges

pytestmark = pytest.mark.django_db


@st.composite
def queries(draw):
    anchor = draw(st.sampled_from(EVENT_NAMES))
    backwards = draw(st.booleans())
    others = [name for name in EVENT_NAMES if name != anchor]
    return PathsQuery(
        range=draw(ranges),
        start_event=None if backwards else anchor,
        end_event=anchor if backwards else None,
        steps=draw(st.integers(2, 5)),
        limit=draw(st.integers(1, 4)),
        # a minute to the whole range: sessions of one event, and of many
        session_seconds=draw(st.sampled_from([60, 1800, 6 * 3600, 86400, 7 * 86400])),
        exclude_events=tuple(draw(st.lists(st.sampled_from(others), max_size=1))),
        filters=tuple(draw(st.lists(filters, max_size=1))),
        exclude_test_accounts=draw(st.booleans()),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event_list=events(max_size=40), person_map=persons(), query=queries())
def test_paths_match_the_reference(tenant_a, engine, event_list, person_map, query):
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map, engine):
        assert engine.paths(query, tz=TZ) == reference.paths(query, event_list, person_map, TZ)


def test_a_path_follows_a_person_across_merged_ids_and_stops_at_the_session_gap(tenant_a, engine):
    """anon-1 views, then (as user-1, the same person) signs up 10 minutes later, then pays an
    hour later: with a 30-minute session, the path is view → signup; pay is another session."""
    at = datetime(2026, 3, 5, 15, tzinfo=UTC)
    events_ = [
        event_at(1, "view", "anon-1", at),
        event_at(2, "signup", "user-1", at + timedelta(minutes=10)),
        event_at(3, "pay", "user-1", at + timedelta(minutes=70)),
        event_at(4, "view", "anon-2", at),
    ]
    person_map = {"anon-1": (0, {}), "user-1": (0, {}), "anon-2": (1, {})}
    query = PathsQuery(range=Range(date(2026, 3, 5), date(2026, 3, 5)), start_event="view", steps=3)
    with schema_context(tenant_a.schema_name), loaded(events_, person_map, engine):
        assert engine.paths(query, tz=TZ) == {
            "paths": 2,
            "nodes": [
                {"id": "0_view", "step": 0, "event": "view", "count": 2},
                {"id": "1_signup", "step": 1, "event": "signup", "count": 1},
            ],
            "links": [{"source": "0_view", "target": "1_signup", "value": 1}],
        }
        before_pay = PathsQuery(range=query.range, end_event="pay", steps=3, session_seconds=7200)
        assert engine.paths(before_pay, tz=TZ)["links"] == [
            {"source": "-2_view", "target": "-1_signup", "value": 1},
            {"source": "-1_signup", "target": "0_pay", "value": 1},
        ]
