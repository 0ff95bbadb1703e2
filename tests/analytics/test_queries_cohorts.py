"""Cohort filters in SQL give exactly what the plain reference gives, in every query kind.

The reference knows nothing of cohorts: it computes a cohort's persons in plain loops
(reference.cohort_members), marks them with a person property, and answers the same query with
a filter on that property in place of the cohort filter."""

import dataclasses
from datetime import timedelta

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.analytics.models import Cohort, CohortMember
from apps.analytics.queries.shapes import Behaviour, CohortRule, Filter, LifecycleQuery, StickinessQuery

from . import reference
from .querydata import DAYS, DISTINCT_IDS, EVENT_NAMES, START, TZ, events, filters, loaded, persons
from .test_queries_activity import _queries as activity_queries
from .test_queries_funnels import queries as funnel_queries
from .test_queries_paths import queries as paths_queries
from .test_queries_retention import queries as retention_queries
from .test_queries_trends import queries as trends_queries

pytestmark = pytest.mark.django_db

# kind: (its queries, the store's method, the reference)
KINDS = {
    "trends": (trends_queries, "trends", reference.trends),
    "funnel": (funnel_queries, "funnel", None),
    "retention": (retention_queries, "retention", reference.retention),
    "stickiness": (activity_queries(StickinessQuery), "stickiness", reference.stickiness),
    "lifecycle": (activity_queries(LifecycleQuery), "lifecycle", reference.lifecycle),
    "paths": (paths_queries(), "paths", reference.paths),
}
MARK = "$in_cohort"

behaviours = st.builds(
    Behaviour,
    event=st.sampled_from(EVENT_NAMES),
    min_count=st.integers(1, 3),
    days=st.just(1),
    since=st.integers(0, DAYS * 86400).map(lambda s: START + timedelta(seconds=s)),
)
person_filters = filters.map(lambda f: dataclasses.replace(f, type="person"))


@st.composite
def cohorts(draw):
    """(a CohortRule without its id, the distinct ids a static one lists)."""
    if draw(st.booleans()):
        return CohortRule(id=0, static=True), draw(st.lists(st.sampled_from([*DISTINCT_IDS, "never-seen"])))
    rule = CohortRule(
        id=0,
        static=False,
        filters=tuple(draw(st.lists(person_filters, max_size=2))),
        behaviours=tuple(draw(st.lists(behaviours, min_size=0 if draw(st.booleans()) else 1, max_size=2))),
    )
    return rule, []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event_list=events(),
    person_map=persons(),
    kind=st.sampled_from(sorted(KINDS)),
    data=st.data(),
    cohort=cohorts(),
    op=st.sampled_from(["in", "not_in"]),
)
def test_cohort_filters_match_the_reference_in_every_kind(
    tenant_a, engine, event_list, person_map, kind, data, cohort, op
):
    strategy, method, answer = KINDS[kind]
    run = getattr(engine, method)
    query = data.draw(strategy)
    rule, listed = cohort
    with schema_context(tenant_a.schema_name), loaded(event_list, person_map, engine) as made:
        row = Cohort.objects.create(name="c", kind=Cohort.STATIC if rule.static else Cohort.RULES)
        CohortMember.objects.bulk_create([CohortMember(cohort=row, distinct_id=d) for d in set(listed)])
        rule = dataclasses.replace(rule, id=row.pk)
        cohort_filter = Filter("cohort", "", op, row.pk, cohort=rule)
        got = run(dataclasses.replace(query, filters=(*query.filters, cohort_filter)), tz=TZ)

    members = reference.cohort_members(rule, event_list, person_map, listed)
    marked = {d: (key, {**props, MARK: key in members}) for d, (key, props) in person_map.items()}
    as_property = Filter("person", MARK, "eq" if op == "in" else "ne", True)
    ref_query = dataclasses.replace(query, filters=(*query.filters, as_property))
    if kind == "funnel":
        expected = reference.funnel(ref_query, event_list, marked, TZ, {k: p.uuid for k, p in made.items()})
    else:
        expected = answer(ref_query, event_list, marked, TZ)
    assert got == expected
