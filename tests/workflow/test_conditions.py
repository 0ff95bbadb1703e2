"""Condition sets (NetBox's shape): operators, groups, attribute paths, `changed`, and the errors
that name where a set is malformed."""

import pytest

from apps.workflow.conditions import ConditionError, compile_condition, condition_problem, evaluate

DATA = {
    "status": {"value": "active"},
    "size": 12,
    "name": "Quarterly report.pdf",
    "tags": ["finance", "q3"],
    "items": [{"id": 7}],
    "changes": {"role": {"old": "member", "new": "admin"}},
    "before": {"size": 10},
}


@pytest.mark.parametrize(
    "spec, expected",
    [
        ({"attr": "status.value", "value": "active"}, True),
        ({"attr": "status.value", "op": "ne", "value": "active"}, False),
        ({"attr": "size", "op": "gt", "value": 10}, True),
        ({"attr": "size", "op": "gte", "value": 12}, True),
        ({"attr": "size", "op": "lt", "value": 12}, False),
        ({"attr": "size", "op": "lte", "value": 12}, True),
        ({"attr": "size", "op": "gt", "value": "a string"}, False),
        ({"attr": "status.value", "op": "in", "value": ["active", "planned"]}, True),
        ({"attr": "tags", "op": "contains", "value": "q3"}, True),
        ({"attr": "name", "op": "contains", "value": "report"}, True),
        ({"attr": "name", "op": "regex", "value": r"\.pdf$"}, True),
        ({"attr": "items.0.id", "value": 7}, True),
        ({"attr": "items.5.id", "value": 7}, False),
        ({"attr": "missing.path", "value": None}, False),
        ({"attr": "missing.path", "value": None, "negate": True}, True),
        ({"attr": "role", "op": "changed"}, True),
        ({"attr": "role", "op": "changed", "value": "admin"}, True),
        ({"attr": "role", "op": "changed", "value": "owner"}, False),
        ({"attr": "size", "op": "changed"}, True),  # before.size 10 → size 12
        ({"attr": "name", "op": "changed"}, False),
        ({"and": [{"attr": "size", "op": "gt", "value": 1}, {"attr": "tags", "op": "contains", "value": "hr"}]}, False),
        ({"or": [{"attr": "size", "op": "gt", "value": 100}, {"attr": "tags", "op": "contains", "value": "q3"}]}, True),
        ({"not": {"attr": "status.value", "value": "active"}}, False),
        ({"and": [{"or": [{"attr": "size", "value": 1}, {"not": {"attr": "size", "value": 1}}]}]}, True),
        ({}, True),
    ],
)
def test_condition_sets_evaluate_as_netbox_does(spec, expected):
    assert evaluate(spec, DATA) is expected
    assert compile_condition(spec)(DATA) is expected


@pytest.mark.parametrize(
    "spec, where, words",
    [
        ({"attr": "x", "op": "bigger", "value": 1}, "op", "unknown operator “bigger”"),
        ({"and": [{"attr": "x", "value": 1}, {"attr": "", "value": 1}]}, "and.1", "needs “attr”"),
        ({"or": []}, "or", "holds a list"),
        ({"and": [{"attr": "x"}]}, "and.0", "needs a “value”"),
        ({"attr": "x", "op": "in", "value": "abc"}, "", "needs a list"),
        ({"attr": "x", "op": "regex", "value": "("}, "", "not a regular expression"),
        ({"and": [1]}, "and.0", "a condition is an object"),
        ({"and": [], "or": []}, "", "exactly one key"),
        ({"attr": "x", "value": 1, "whatever": 2}, "", "unknown key"),
    ],
)
def test_a_malformed_set_is_refused_naming_where(spec, where, words):
    with pytest.raises(ConditionError) as caught:
        compile_condition(spec)
    assert caught.value.path == where
    assert words in str(caught.value)
    assert words in condition_problem(spec)


def test_a_valid_set_has_no_problem():
    assert condition_problem({"attr": "a", "value": 1}) is None
