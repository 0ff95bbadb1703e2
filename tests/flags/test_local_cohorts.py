"""Cohort conditions in local evaluation: a cohort of person-property rules is sent in the
definitions' `cohorts` (PostHog's shape), and posthog-python's own matching code decides it from
the properties it is given exactly as this engine decides it from the stored persons; a static
or behavioural cohort is left out, so the SDK is told to ask the server."""

import random

import pytest
from django_tenants.utils import schema_context
from posthog.feature_flags import InconclusiveMatchError, RequiresServerEvaluation, match_feature_flag_properties

from apps.analytics.models import Cohort, Person, PersonDistinctId
from apps.flags import selectors

from .conftest import make_flag

pytestmark = pytest.mark.django_db
RULES = [
    {"type": "person", "key": "plan", "op": "eq", "value": "pro"},
    {"type": "person", "key": "email", "op": "contains", "value": "@acme"},
    {"type": "person", "key": "age", "op": "gt", "value": 20},
    {"type": "person", "key": "country", "op": "ne", "value": "fr"},
]


def props(i: int) -> dict:
    rng = random.Random(i)
    found = {
        "plan": rng.choice(["pro", "Pro", "free"]),
        "email": f"u{i}@{rng.choice(['acme.test', 'ACME.test', 'beta.test'])}",
        "age": rng.randint(10, 40),
    }
    if rng.random() < 0.9:  # without it the SDK cannot decide: it asks the server
        found["country"] = rng.choice(["fr", "de"])
    return found


def test_sdk_local_evaluation_of_property_cohorts_equals_the_servers(tenant_a):
    with schema_context(tenant_a.schema_name):
        cohort = Cohort.objects.create(name="acme pros", kind=Cohort.RULES, filters=RULES)
        for i in range(300):
            person = Person.objects.create(properties=props(i))
            PersonDistinctId.objects.create(distinct_id=f"cohort-{i}", person=person)
    conditions = [{"type": "cohort", "key": "id", "value": cohort.pk}]
    make_flag(tenant_a, "for-acme-pros", filters={"groups": [{"properties": conditions, "rollout_percentage": 100}]})
    with schema_context(tenant_a.schema_name):
        selectors.forget()
        definitions = selectors.local_definitions()
        flag = next(f for f in definitions["flags"] if f["key"] == "for-acme-pros")
        assert str(cohort.pk) in definitions["cohorts"]
        decided, asked = [], []
        for i in range(300):
            distinct_id = f"cohort-{i}"
            ours = selectors.evaluate(distinct_id=distinct_id, properties=props(i))["for-acme-pros"].value
            try:
                theirs = match_feature_flag_properties(
                    flag, distinct_id, props(i), cohort_properties=definitions["cohorts"], bucketing_value=distinct_id
                )
            except InconclusiveMatchError:
                asked.append(i)
            else:
                decided.append((i, ours, theirs))
    assert [(i, ours) for i, ours, _ in decided] == [(i, theirs) for i, _, theirs in decided]
    assert all("country" not in props(i) for i in asked) and len(decided) > 250
    assert 10 < sum(ours for _, ours, _ in decided) < 240  # both answers occur


def test_static_and_behavioural_cohorts_are_left_to_the_server(tenant_a):
    with schema_context(tenant_a.schema_name):
        static = Cohort.objects.create(name="listed", kind=Cohort.STATIC)
        acting = Cohort.objects.create(
            name="buyers", kind=Cohort.RULES, behaviours=[{"event": "purchase", "min_count": 1, "days": 30}]
        )
    for key, cohort in (("listed-only", static), ("buyers-only", acting)):
        conditions = [{"type": "cohort", "key": "id", "value": cohort.pk}]
        make_flag(tenant_a, key, filters={"groups": [{"properties": conditions, "rollout_percentage": 100}]})
    with schema_context(tenant_a.schema_name):
        selectors.forget()
        definitions = selectors.local_definitions()
    assert str(static.pk) not in definitions["cohorts"] and str(acting.pk) not in definitions["cohorts"]
    for key in ("listed-only", "buyers-only"):
        flag = next(f for f in definitions["flags"] if f["key"] == key)
        with pytest.raises(RequiresServerEvaluation):
            match_feature_flag_properties(
                flag, "someone", {}, cohort_properties=definitions["cohorts"], bucketing_value="someone"
            )
