"""Stickiness and lifecycle in SQL give exactly what the plain reference gives."""

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.analytics.queries.shapes import LifecycleQuery, StickinessQuery

from . import reference
from .querydata import EVENT_NAMES, TZ, events, filters, loaded, persons
from .test_queries_trends import ranges

pytestmark = pytest.mark.django_db


def _queries(cls):
    return st.builds(
        cls,
        range=ranges,
        event=st.sampled_from(EVENT_NAMES),
        interval=st.sampled_from(["hour", "day", "week", "month"]),
        filters=st.lists(filters, max_size=1).map(tuple),
        exclude_test_accounts=st.booleans(),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event_list=events(), person_map=persons(), query=_queries(StickinessQuery))
def test_stickiness_matches_the_reference(tenant_a, engine, event_list, person_map, query):
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map, engine):
        assert engine.stickiness(query, tz=TZ) == reference.stickiness(query, event_list, person_map, TZ)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event_list=events(), person_map=persons(), query=_queries(LifecycleQuery))
def test_lifecycle_matches_the_reference(tenant_a, engine, event_list, person_map, query):
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map, engine):
        assert engine.lifecycle(query, tz=TZ) == reference.lifecycle(query, event_list, person_map, TZ)
