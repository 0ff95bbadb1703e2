"""The flags engine on its own: no database. Conditions, rollouts, variants, overrides, the kill
switch, the schedule, dependencies, missing properties, validation with reasons; and bucketing
uniform and stable (chi-square over 100,000 ids)."""

import hashlib
import time

import pytest

from apps.flags import engine
from apps.flags.engine import Context, compile_flag, evaluate, validate

NOW = time.time()


def flag(key="f", **filters_and_more):
    definition = {"key": key, "active": True, "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}}
    for name in ("active", "starts_at", "ends_at", "overrides"):
        if name in filters_and_more:
            definition[name] = filters_and_more.pop(name)
    definition["filters"].update(filters_and_more)
    return definition


def value(definition, distinct_id="p1", others=(), **context):
    compiled = {d["key"]: compile_flag(d) for d in [definition, *others]}
    return evaluate(compiled[definition["key"]], Context(distinct_id, **context), now=NOW, flags=compiled).value


def prop(key, operator, val=None, kind="person"):
    return {"key": key, "operator": operator, "value": val, "type": kind}


@pytest.mark.parametrize(
    "condition, properties, expected",
    [
        (prop("plan", "exact", "team"), {"plan": "Team"}, True),
        (prop("plan", "exact", ["team", "pro"]), {"plan": "pro"}, True),
        (prop("plan", "is_not", "team"), {"plan": "free"}, True),
        (prop("plan", "is_not", "team"), {"plan": "team"}, False),
        (prop("email", "icontains", "@ACME"), {"email": "jo@acme.test"}, True),
        (prop("email", "not_icontains", "@acme"), {"email": "jo@acme.test"}, False),
        (prop("email", "regex", r"^jo@"), {"email": "jo@acme.test"}, True),
        (prop("email", "not_regex", r"^jo@"), {"email": "al@acme.test"}, True),
        (prop("age", "gt", 30), {"age": 31}, True),
        (prop("age", "gt", 30), {"age": "30"}, False),
        (prop("age", "lte", 30), {"age": "30"}, True),
        (prop("age", "lt", 30), {"age": "old"}, False),
        (prop("seen", "is_date_before", "2026-01-01"), {"seen": "2025-12-31T10:00:00Z"}, True),
        (prop("plan", "is_set"), {"plan": ""}, True),
        (prop("plan", "is_not_set"), {}, True),
        (prop("beta", "exact", True), {"beta": "true"}, True),
    ],
)
def test_property_operators(condition, properties, expected):
    definition = flag(groups=[{"properties": [condition], "rollout_percentage": 100}])
    assert value(definition, properties=properties) is expected


@pytest.mark.parametrize("operator", ["exact", "is_not", "icontains", "regex", "gt", "lt", "is_set", "is_date_after"])
def test_a_missing_property_makes_the_condition_false_never_an_error(operator):
    definition = flag(groups=[{"properties": [prop("plan", operator, "1")]}])
    assert value(definition, properties={}) is False
    assert value(definition, properties={"other": None}) is False


def test_groups_are_ored_and_conditions_anded():
    definition = flag(
        groups=[
            {"properties": [prop("plan", "exact", "pro"), prop("age", "gt", 18)]},
            {"properties": [prop("email", "icontains", "@staff")]},
        ]
    )
    assert value(definition, properties={"plan": "pro", "age": 20}) is True
    assert value(definition, properties={"plan": "pro", "age": 10}) is False
    assert value(definition, properties={"email": "a@staff.test"}) is True


def test_rollout_uses_posthogs_hash_and_is_stable():
    definition = flag(groups=[{"properties": [], "rollout_percentage": 30}])
    on = [i for i in range(2000) if value(definition, f"id-{i}")]
    assert 0.26 < len(on) / 2000 < 0.34
    for i in range(200):  # the same hash PostHog's SDKs use
        place = int(hashlib.sha1(f"f.id-{i}".encode()).hexdigest()[:15], 16) / float(0xFFFFFFFFFFFFFFF)
        assert value(definition, f"id-{i}") is (place <= 0.30)
    assert on == [i for i in range(2000) if value(definition, f"id-{i}")]


def test_variants_with_weights_payloads_and_a_fixed_variant_per_group():
    variants = {"variants": [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]}
    definition = flag(
        multivariate=variants,
        payloads={"test": {"colour": "green"}, "control": {"colour": "grey"}},
        groups=[
            {"properties": [prop("email", "icontains", "@qa")], "variant": "test"},
            {"properties": [], "rollout_percentage": 100},
        ],
    )
    seen = {value(definition, f"u{i}") for i in range(200)}
    assert seen == {"control", "test"}
    assert all(value(definition, f"u{i}", properties={"email": "x@qa.test"}) == "test" for i in range(50))
    compiled = compile_flag(definition)
    result = evaluate(compiled, Context("u1", properties={"email": "x@qa.test"}), now=NOW)
    assert result.payload == {"colour": "green"} and result.reason == "condition_match"


def test_kill_switch_schedule_and_overrides():
    definition = flag(overrides={"qa": False, "boss": True})
    assert value(definition, "someone") is True
    assert value(definition, "qa") is False
    assert value({**definition, "active": False}, "boss") is False  # the kill switch wins
    assert value({**definition, "starts_at": "2999-01-01T00:00:00Z"}) is False
    assert value({**definition, "ends_at": "2000-01-01T00:00:00Z"}) is False
    assert value({**definition, "starts_at": "2000-01-01T00:00:00Z", "ends_at": "2999-01-01T00:00:00Z"}) is True


def test_cohorts_and_organisation_groups():
    definition = flag(groups=[{"properties": [{"type": "cohort", "key": "id", "value": 7}]}])
    assert value(definition, cohorts=frozenset({7})) is True
    assert value(definition, cohorts=frozenset({8})) is False
    by_org = flag(
        aggregation_group_type_index=0,
        groups=[{"properties": [prop("tier", "exact", "gold", "group")], "rollout_percentage": 100}],
    )
    assert value(by_org, groups={"organisation": "acme"}, group_properties={"organisation": {"tier": "gold"}}) is True
    assert value(by_org, groups={"organisation": "acme"}, group_properties={"organisation": {"tier": "tin"}}) is False
    assert value(by_org) is False  # no organisation given
    # an organisation flag's overrides name organisations by key, whoever the person is
    overridden = {**by_org, "overrides": {"acme": False, "tinco": True, "u1": True}}
    gold, tin = {"organisation": {"tier": "gold"}}, {"organisation": {"tier": "tin"}}
    assert value(overridden, groups={"organisation": "acme"}, group_properties=gold) is False
    assert value(overridden, groups={"organisation": "tinco"}, group_properties=tin) is True
    assert value(overridden, "u1", groups={"organisation": "other"}, group_properties=tin) is False


def test_dependencies_on_other_flags():
    base = flag("base", groups=[{"properties": [prop("plan", "exact", "pro")]}])
    child = flag("child", groups=[{"properties": [{"type": "flag", "key": "base", "value": True}]}])
    assert value(child, others=[base], properties={"plan": "pro"}) is True
    assert value(child, others=[base], properties={"plan": "free"}) is False
    assert value(child) is False  # the dependency is unknown: off


def test_validation_names_each_reason():
    weights = flag(
        multivariate={"variants": [{"key": "a", "rollout_percentage": 60}, {"key": "b", "rollout_percentage": 30}]}
    )
    assert validate(weights) == {"filters.multivariate.variants": ["The variants' weights add up to 90, not 100."]}
    unknown = flag(groups=[{"properties": [prop("plan", "sounds_like", "x")]}])
    assert "filters.groups.0.properties.0.operator" in validate(unknown)
    never = flag(groups=[{"properties": [prop("age", "gt", 40), prop("age", "lt", 30)]}])
    assert "can never match" in validate(never)["filters.groups.0.properties"][0]
    never_exact = flag(groups=[{"properties": [prop("plan", "exact", "a"), prop("plan", "exact", "b")]}])
    assert "filters.groups.0.properties" in validate(never_exact)
    zero = flag(groups=[{"properties": [], "rollout_percentage": 0}])
    assert "filters.groups.0.rollout_percentage" in validate(zero)
    assert "filters.groups.0.properties.0.value" in validate(flag(groups=[{"properties": [prop("x", "regex", "(")]}]))
    assert "ends_at" in validate(flag(starts_at="2030-01-02T00:00:00Z", ends_at="2030-01-01T00:00:00Z"))
    assert "overrides.jo" in validate(flag(overrides={"jo": "nope"}))
    assert validate(flag()) == {}


def test_circular_dependencies_are_refused():
    a = flag("a", groups=[{"properties": [{"type": "flag", "key": "b", "value": True}]}])
    b = flag("b", groups=[{"properties": [{"type": "flag", "key": "c", "value": True}]}])
    c = flag("c", groups=[{"properties": [{"type": "flag", "key": "a", "value": True}]}])
    errors = validate(c, others={"a": a, "b": b})
    assert errors == {"filters.groups": ["Flags depend on each other in a circle: c → a → b → c."]}
    assert "filters.groups.0.properties.0.key" in validate(a, others={})  # b does not exist


# Chi-square critical values at p = 0.001 (degrees of freedom -> value), from the tables.
CRITICAL_001 = {1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467, 9: 27.877}


def _chi_square(counts, expected):
    return sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True))


@pytest.mark.parametrize("weights", [[50, 50], [20, 30, 50], [25, 25, 25, 25], [10] * 10])
def test_bucketing_is_uniform_over_100000_ids_per_variant_split(weights):
    variants = [{"key": f"v{i}", "rollout_percentage": w} for i, w in enumerate(weights)]
    compiled = compile_flag(flag("split", multivariate={"variants": variants}))
    counts = dict.fromkeys((v["key"] for v in variants), 0)
    n = 100_000
    for i in range(n):
        counts[evaluate(compiled, Context(f"user-{i}"), now=NOW).value] += 1
    statistic = _chi_square(list(counts.values()), [n * w / 100 for w in weights])
    assert statistic < CRITICAL_001[len(weights) - 1], (counts, statistic)
    try:
        from scipy.stats import chisquare
    except ImportError:
        return
    assert chisquare(list(counts.values()), [n * w / 100 for w in weights]).pvalue > 0.001


def test_bucketing_is_stable_across_processes():
    """The place depends on nothing but the flag's key and the id: a fresh interpreter agrees."""
    import subprocess
    import sys

    code = "from apps.flags.engine import bucket; print([round(bucket('k', f'id{i}'), 12) for i in range(50)])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str([round(engine.bucket("k", f"id{i}"), 12) for i in range(50)])
