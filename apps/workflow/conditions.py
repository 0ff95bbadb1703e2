"""Condition sets in the shape of NetBox's event rules (netbox/extras/conditions.py), pure Python.

A condition set is a clause or a group:
    {"attr": "status.value", "op": "eq", "value": "active"}           a clause ("op" defaults to eq)
    {"attr": "size", "op": "gt", "value": 10, "negate": true}         negated
    {"and": [<set>, ...]}   {"or": [<set>, ...]}   {"not": <set>}     groups, nested freely

`attr` is a dotted path into the data ("changes.name.new", "items.0.id"). Operators: eq, ne, gt,
gte, lt, lte, in (the data's value is one of `value`), contains (the data's list or string holds
`value`), regex (the data's string matches), changed (the attribute is among the event's
`changes`, or differs between the data's `before`/`old` and its current value; with a `value`:
changed to that value). A path that is missing makes its clause false (and its negation true).

`compile_condition(spec)` checks a set once and returns a function `data -> bool`; `evaluate(spec,
data)` compiles (cached by the set's JSON) and evaluates.
"""

import json
import re
from collections.abc import Callable
from functools import lru_cache

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "regex", "changed")
_MISSING = object()


class ConditionError(ValueError):
    """The condition set is malformed; `path` says where ("and.1.op")."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


def _getter(attr: str) -> Callable:
    parts = tuple(attr.split("."))
    if len(parts) == 1:
        key = parts[0]
        return lambda data: data.get(key, _MISSING) if type(data) is dict else _MISSING

    def get(data):
        value = data
        try:
            for part in parts:
                value = value[part] if type(value) is dict else value[int(part)]
        except (KeyError, IndexError, TypeError, ValueError):
            return _MISSING
        return value

    return get


def _ordered(op):
    def test(actual, expected):
        try:
            return op(actual, expected)
        except TypeError:  # a string against a number: not comparable, so false
            return False

    return test


_TESTS = {
    "eq": lambda a, e: a == e,
    "ne": lambda a, e: a != e,
    "gt": _ordered(lambda a, e: a > e),
    "gte": _ordered(lambda a, e: a >= e),
    "lt": _ordered(lambda a, e: a < e),
    "lte": _ordered(lambda a, e: a <= e),
    "in": lambda a, e: a in e,
    "contains": lambda a, e: isinstance(a, list | str | dict) and (e in a if not isinstance(a, str) else str(e) in a),
}


def _changed(attr: str, value, has_value: bool) -> Callable:
    """The event's own `changes` {"attr": {"old", "new"}}, or `before`/`old` against the data."""
    current, before_of, old_of = _getter(attr), _getter("before." + attr), _getter("old." + attr)
    change_of = _getter("changes." + attr)

    def test(data):
        change = change_of(data)
        if change is not _MISSING:
            new = change.get("new", _MISSING) if isinstance(change, dict) else change
            return not has_value or new == value
        now = current(data)
        before = before_of(data)
        if before is _MISSING:
            before = old_of(data)
        if before is _MISSING or now is _MISSING or before == now:
            return False
        return not has_value or now == value

    return test


def _clause(spec: dict, path: str) -> Callable:
    unknown = set(spec) - {"attr", "op", "value", "negate"}
    if unknown:
        raise ConditionError(f"unknown key(s) {', '.join(sorted(unknown))}", path)
    attr = spec.get("attr")
    if not isinstance(attr, str) or not attr.strip():
        raise ConditionError("a clause needs “attr”, a dotted path such as “status.value”", path)
    op = spec.get("op", "eq")
    if op not in OPERATORS:
        raise ConditionError(f"unknown operator “{op}” (one of {', '.join(OPERATORS)})", path + ".op" if path else "op")
    negate = spec.get("negate", False)
    if not isinstance(negate, bool):
        raise ConditionError("“negate” is true or false", path)
    has_value = "value" in spec
    value = spec.get("value")
    if op == "changed":
        test = _changed(attr, value, has_value)
    else:
        if not has_value:
            raise ConditionError(f"the operator “{op}” needs a “value”", path)
        if op == "in" and not isinstance(value, list):
            raise ConditionError("“in” needs a list as its value", path)
        get = _getter(attr)
        if op == "regex":
            try:
                pattern = re.compile(str(value))
            except re.error as exc:
                raise ConditionError(f"not a regular expression: {exc}", path) from None

            def test(data):
                actual = get(data)
                return isinstance(actual, str) and pattern.search(actual) is not None
        else:
            compare = _TESTS[op]

            def test(data):
                actual = get(data)
                return actual is not _MISSING and compare(actual, value)

    if negate:
        return lambda data: not test(data)
    return test


def _compile(spec, path: str) -> Callable:
    if not isinstance(spec, dict):
        raise ConditionError("a condition is an object: a clause or an and/or/not group", path)
    groups = [k for k in ("and", "or", "not") if k in spec]
    if len(groups) > 1 or (groups and len(spec) > 1):
        raise ConditionError("a group has exactly one key: “and”, “or” or “not”", path)
    if not groups:
        return _clause(spec, path)
    key = groups[0]
    here = f"{path}.{key}" if path else key
    if key == "not":
        inner = _compile(spec["not"], here)
        return lambda data: not inner(data)
    members = spec[key]
    if not isinstance(members, list) or not members:
        raise ConditionError(f"“{key}” holds a list of conditions", here)
    parts = tuple(_compile(member, f"{here}.{i}") for i, member in enumerate(members))
    if key == "and":

        def every(data):
            for part in parts:
                if not part(data):
                    return False
            return True

        return every

    def some(data):
        for part in parts:
            if part(data):
                return True
        return False

    return some


def compile_condition(spec) -> Callable[[dict], bool]:
    """A function data -> bool for the condition set `spec` (an empty set is always true)."""
    if spec in (None, {}):
        return lambda data: True
    return _compile(spec, "")


@lru_cache(maxsize=1024)
def _compiled(text: str) -> Callable:
    return compile_condition(json.loads(text))


def evaluate(spec, data: dict) -> bool:
    """Whether `data` meets the condition set `spec` (compiled once per distinct set)."""
    if not spec:
        return True
    return _compiled(json.dumps(spec, sort_keys=True))(data)


def condition_problem(spec) -> str | None:
    """Why `spec` is not a valid condition set, or None."""
    try:
        compile_condition(spec)
    except ConditionError as exc:
        return str(exc)
    return None
