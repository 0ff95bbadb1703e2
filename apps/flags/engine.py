"""The flags engine: pure Python, no database, no Django. A definition (a dict, PostHog-shaped
so its SDKs can evaluate the same thing) is compiled once into a `Flag`; evaluating it is then a
few dict look-ups and one or two SHA-1s.

A definition:

    {"key": "new-checkout", "active": true, "starts_at": null, "ends_at": null,
     "filters": {
        "groups": [{"properties": [{"key": "email", "operator": "icontains", "value": "@acme",
                                    "type": "person"}],
                    "rollout_percentage": 50, "variant": null}],
        "multivariate": {"variants": [{"key": "control", "rollout_percentage": 50},
                                      {"key": "test", "rollout_percentage": 50}]},
        "payloads": {"true": {...}, "test": {...}},
        "aggregation_group_type_index": null},          # 0: bucket by organisation
     "overrides": {"qa@acme.test": "test", "ceo": false}}   # an organisation flag's: by its key

Order of evaluation: the kill switch (`active`), the schedule, overrides, then the condition
groups in order, the first that matches decides (its `variant`, or the person's bucket among the
variants). A property the caller did not send makes its condition false, never an error.

Bucketing is PostHog's: sha1("<flag key>.<id><salt>"), the first 15 hex digits over 0xFFF…F; the
rollout uses no salt, the variant the salt "variant". So posthog-python's local evaluation of the
same definition gives the same answer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

LONG_SCALE = float(0xFFFFFFFFFFFFFFF)
GROUP_TYPES = {"0": "organisation"}  # PostHog's group_type_mapping: the one group type a tenant has
OPERATORS = {
    "exact": "equals",
    "is_not": "does not equal",
    "icontains": "contains",
    "not_icontains": "does not contain",
    "regex": "matches the regular expression",
    "not_regex": "does not match the regular expression",
    "gt": "is greater than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "is_set": "is set",
    "is_not_set": "is not set",
    "is_date_before": "is a date before",
    "is_date_after": "is a date after",
}
MAX_GROUPS = 20
MAX_PROPERTIES = 20


def bucket(key: str, bucketing_value: str, salt: str = "") -> float:
    """The stable place in [0, 1) of `bucketing_value` for the flag `key` (PostHog's hash)."""
    digest = hashlib.sha1(f"{key}.{bucketing_value}{salt}".encode()).hexdigest()
    return int(digest[:15], 16) / LONG_SCALE


# --- Property conditions -------------------------------------------------------------------------


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _date(value):
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _property_test(operator: str, expected):
    """A function (value) -> bool for one property condition, the value being present."""
    if operator in ("exact", "is_not"):
        wanted = frozenset(_text(v) for v in expected) if isinstance(expected, list) else frozenset([_text(expected)])
        if operator == "exact":
            return lambda value: _text(value) in wanted
        return lambda value: _text(value) not in wanted
    if operator in ("icontains", "not_icontains"):
        needle = _text(expected)
        if operator == "icontains":
            return lambda value: needle in _text(value)
        return lambda value: needle not in _text(value)
    if operator in ("regex", "not_regex"):
        pattern = re.compile(str(expected))
        if operator == "regex":
            return lambda value: pattern.search(str(value)) is not None
        return lambda value: pattern.search(str(value)) is None
    if operator in ("gt", "gte", "lt", "lte"):
        limit = _number(expected)
        compare = {
            "gt": lambda a: a > limit,
            "gte": lambda a: a >= limit,
            "lt": lambda a: a < limit,
            "lte": lambda a: a <= limit,
        }[operator]

        def numeric(value):
            number = _number(value)
            return number is not None and compare(number)

        return numeric
    if operator in ("is_date_before", "is_date_after"):
        limit = _date(expected)
        before = operator == "is_date_before"

        def dated(value):
            moment = _date(value)
            return moment is not None and (moment < limit if before else moment > limit)

        return dated
    if operator == "is_set":
        return lambda value: True
    if operator == "is_not_set":
        return lambda value: False
    raise ValueError(f"Unknown operator “{operator}”.")


@dataclass(frozen=True)
class Condition:
    kind: str  # "person" | "group" | "cohort" | "flag"
    key: str
    test: object = None  # person/group: value -> bool
    missing: bool = False  # the answer when the property is absent
    cohort: int | None = None
    expected: object = None  # flag: True/False or a variant


def _condition(prop: dict) -> Condition:
    kind = prop.get("type") or "person"
    if kind == "cohort":
        return Condition("cohort", "id", cohort=int(prop["value"]))
    if kind == "flag":
        return Condition("flag", str(prop["key"]), expected=prop["value"])
    operator = prop.get("operator") or "exact"
    return Condition(kind, str(prop["key"]), _property_test(operator, prop.get("value")), operator == "is_not_set")


# --- Compiled flags ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    conditions: tuple
    rollout: float | None  # 0..1, None for everyone who matches
    variant: str | None


@dataclass(frozen=True)
class Flag:
    key: str
    id: int | None
    version: int
    active: bool
    starts_at: float | None
    ends_at: float | None
    groups: tuple
    variants: tuple  # ((key, upper bound in 0..1), …)
    payloads: dict
    overrides: dict
    group_type: str | None  # None: bucket by distinct id; "organisation": by the group's key
    depends_on: frozenset = field(default=frozenset())
    definition: dict = field(default_factory=dict, compare=False)


def _timestamp(value) -> float | None:
    if value in (None, ""):
        return None
    moment = _date(value)
    if moment is None:
        raise ValueError(f"“{value}” is not a date and time.")
    return moment


def compile_flag(definition: dict) -> Flag:
    """The definition compiled for evaluation (ValueError if it cannot be read: validate() says
    why in words first)."""
    filters = definition.get("filters") or {}
    groups, depends = [], set()
    for group in filters.get("groups") or []:
        conditions = tuple(_condition(prop) for prop in group.get("properties") or [])
        depends.update(c.key for c in conditions if c.kind == "flag")
        rollout = group.get("rollout_percentage")
        groups.append(Group(conditions, None if rollout is None else rollout / 100, group.get("variant") or None))
    variants, upper = [], 0.0
    for variant in (filters.get("multivariate") or {}).get("variants") or []:
        upper += variant["rollout_percentage"] / 100
        variants.append((variant["key"], upper))
    index = filters.get("aggregation_group_type_index")
    return Flag(
        key=definition["key"],
        id=definition.get("id"),
        version=definition.get("version") or 1,
        active=bool(definition.get("active", True)),
        starts_at=_timestamp(definition.get("starts_at")),
        ends_at=_timestamp(definition.get("ends_at")),
        groups=tuple(groups),
        variants=tuple(variants),
        payloads=dict(filters.get("payloads") or {}),
        overrides=dict(definition.get("overrides") or {}),
        group_type=None if index is None else GROUP_TYPES.get(str(index), str(index)),
        depends_on=frozenset(depends),
        definition=definition,
    )


@dataclass
class Context:
    """Who is asking: their distinct id, person properties, groups ({"organisation": key}) and
    those groups' properties, and the ids of the cohorts they belong to."""

    distinct_id: str
    properties: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    group_properties: dict = field(default_factory=dict)
    cohorts: frozenset = frozenset()


@dataclass(frozen=True)
class Result:
    value: bool | str
    reason: str  # "disabled" | "scheduled" | "override" | "condition_match" | "no_condition_match" | "no_group"
    condition_index: int | None = None
    payload: object = None


def _variant_of(flag: Flag, bucketing_value: str) -> str | None:
    place = bucket(flag.key, bucketing_value, "variant")
    for key, upper in flag.variants:
        if place < upper:
            return key
    return None


def _payload(flag: Flag, value) -> object:
    if value is False:
        return None
    return flag.payloads.get("true" if value is True else value)


def _overridden_as(flag: Flag, context: Context) -> str | None:
    """Whom the flag's overrides name: the person's distinct id, or for an organisation flag the
    organisation's key (None without one)."""
    if flag.group_type is None:
        return context.distinct_id
    key = context.groups.get(flag.group_type)
    return None if key is None else str(key)


def evaluate(flag: Flag, context: Context, *, now: float, flags: dict | None = None, _seen=None) -> Result:
    """The flag's value for `context` at `now` (a UNIX time). `flags` (key -> Flag) resolves
    dependencies; a dependency that cannot be resolved makes its condition false."""
    if not flag.active:
        return Result(False, "disabled")
    if (flag.starts_at is not None and now < flag.starts_at) or (flag.ends_at is not None and now >= flag.ends_at):
        return Result(False, "scheduled")
    override = flag.overrides.get(_overridden_as(flag, context))
    if override is not None:
        return Result(override, "override", payload=_payload(flag, override))
    if flag.group_type is None:
        bucketing_value, properties = context.distinct_id, context.properties
    else:
        bucketing_value = context.groups.get(flag.group_type)
        if bucketing_value is None:
            return Result(False, "no_group")
        bucketing_value = str(bucketing_value)
        properties = context.group_properties.get(flag.group_type) or {}
    for index, group in enumerate(flag.groups):
        if not _conditions_hold(group.conditions, properties, context, now, flags, _seen, flag.key):
            continue
        if group.rollout is not None and bucket(flag.key, bucketing_value) > group.rollout:
            continue
        value = True
        if flag.variants:
            variant = group.variant if group.variant in dict(flag.variants) else _variant_of(flag, bucketing_value)
            value = variant or True
        return Result(value, "condition_match", index, _payload(flag, value))
    return Result(False, "no_condition_match")


def _conditions_hold(conditions, properties, context, now, flags, seen, own_key) -> bool:
    for condition in conditions:
        kind = condition.kind
        if kind == "person" or kind == "group":
            if condition.key in properties:
                if not condition.test(properties[condition.key]):
                    return False
            elif condition.key == "distinct_id" and kind == "person":
                if not condition.test(context.distinct_id):
                    return False
            elif not condition.missing:
                return False
        elif kind == "cohort":
            if condition.cohort not in context.cohorts:
                return False
        else:  # a dependency on another flag
            other = (flags or {}).get(condition.key)
            seen = seen or frozenset()
            if other is None or condition.key in seen:
                return False
            actual = evaluate(other, context, now=now, flags=flags, _seen=seen | {own_key}).value
            if not dependency_matches(condition.expected, actual):
                return False
    return True


def dependency_matches(expected, actual) -> bool:
    """PostHog's rule: any variant counts as true; a variant must equal a named one."""
    if isinstance(actual, str) and actual:
        return expected if isinstance(expected, bool) else actual == expected
    return isinstance(expected, bool) and actual == expected


def evaluate_all(flags: dict, context: Context, *, now: float) -> dict[str, Result]:
    """Every flag's result for `context` (flags: key -> Flag)."""
    return {key: evaluate(flag, context, now=now, flags=flags) for key, flag in flags.items()}


# --- Validation ----------------------------------------------------------------------------------


def _check_property(prop, path: str, errors: dict, known_flags: set, variants_of: dict) -> None:
    if not isinstance(prop, dict):
        errors[path] = ['Give {"key", "operator", "value", "type"}.']
        return
    kind = prop.get("type") or "person"
    if kind == "cohort":
        try:
            int(prop.get("value"))
        except (TypeError, ValueError):
            errors[f"{path}.value"] = ["Give the cohort's id."]
        return
    if kind == "flag":
        key = prop.get("key")
        if key not in known_flags:
            errors[f"{path}.key"] = [f"There is no flag “{key}”."]
        expected = prop.get("value")
        if not isinstance(expected, bool) and expected not in variants_of.get(key, ()):
            errors[f"{path}.value"] = ["Give true, false or one of that flag's variants."]
        return
    if kind not in ("person", "group"):
        errors[f"{path}.type"] = [f"“{kind}” is not a kind of condition: person, group, cohort or flag."]
        return
    if not isinstance(prop.get("key"), str) or not prop.get("key").strip():
        errors[f"{path}.key"] = ["Name the property."]
    operator = prop.get("operator") or "exact"
    if operator not in OPERATORS:
        errors[f"{path}.operator"] = [f"“{operator}” is not an operator; use one of {', '.join(OPERATORS)}."]
        return
    value = prop.get("value")
    if operator in ("gt", "gte", "lt", "lte") and _number(value) is None:
        errors[f"{path}.value"] = ["Give a number."]
    elif operator in ("is_date_before", "is_date_after") and _date(value) is None:
        errors[f"{path}.value"] = ["Give a date (YYYY-MM-DD)."]
    elif operator in ("regex", "not_regex"):
        try:
            re.compile(str(value))
        except re.error as exc:
            errors[f"{path}.value"] = [f"Not a regular expression: {exc}."]
    elif operator in ("exact", "is_not", "icontains", "not_icontains") and value in (None, "", []):
        errors[f"{path}.value"] = ["Give a value."]


def _never_matches(properties: list) -> str | None:
    """Why a group's conditions contradict each other, or None."""
    by_key: dict = {}
    for prop in properties:
        if isinstance(prop, dict) and (prop.get("type") or "person") in ("person", "group"):
            by_key.setdefault((prop.get("type") or "person", prop.get("key")), []).append(prop)
    for (_, key), props in by_key.items():
        operators = {p.get("operator") or "exact" for p in props}
        if "is_not_set" in operators and operators - {"is_not_set", "is_not", "not_icontains", "not_regex"}:
            return f"“{key}” cannot be both unset and compared."
        exact = [p.get("value") for p in props if (p.get("operator") or "exact") == "exact"]
        sets = [frozenset(_text(v) for v in (e if isinstance(e, list) else [e])) for e in exact]
        if sets and not frozenset.intersection(*sets):
            return f"“{key}” cannot equal two different values."
        low = [_number(p.get("value")) for p in props if p.get("operator") in ("gt", "gte")]
        high = [_number(p.get("value")) for p in props if p.get("operator") in ("lt", "lte")]
        low, high = [v for v in low if v is not None], [v for v in high if v is not None]
        if low and high and max(low) >= min(high):
            return f"“{key}” cannot be above {max(low):g} and below {min(high):g} at once."
    return None


def validate(definition: dict, *, others: dict | None = None) -> dict[str, list[str]]:
    """The reasons `definition` is refused, by field path ({} when it is good). `others` maps the
    tenant's other flags' keys to their definitions (for dependencies and cycles)."""
    errors: dict[str, list[str]] = {}
    others = {k: v for k, v in (others or {}).items() if k != definition.get("key")}
    key = definition.get("key")
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", key or ""):
        errors["key"] = ["Use 1 to 100 letters, digits, dots, dashes or underscores."]
    filters = definition.get("filters") or {}
    if not isinstance(filters, dict):
        return {"filters": ["Give an object."]}
    variants = (filters.get("multivariate") or {}).get("variants") or []
    variant_keys = []
    if variants:
        total = 0
        for i, variant in enumerate(variants):
            if not isinstance(variant, dict) or not str(variant.get("key") or "").strip():
                errors[f"filters.multivariate.variants.{i}.key"] = ["Name the variant."]
                continue
            weight = variant.get("rollout_percentage")
            if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 <= weight <= 100:
                errors[f"filters.multivariate.variants.{i}.rollout_percentage"] = ["Give a weight from 0 to 100."]
                continue
            total += weight
            variant_keys.append(variant["key"])
        if len(set(variant_keys)) != len(variant_keys):
            errors["filters.multivariate.variants"] = ["Each variant needs a name of its own."]
        elif (
            "filters.multivariate.variants" not in errors
            and abs(total - 100) > 1e-9
            and not any(k.startswith("filters.multivariate.variants.") for k in errors)
        ):
            errors["filters.multivariate.variants"] = [f"The variants' weights add up to {total:g}, not 100."]
    variants_of = {
        k: {v.get("key") for v in ((d.get("filters") or {}).get("multivariate") or {}).get("variants") or []}
        for k, d in others.items()
    }
    groups = filters.get("groups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        errors["filters.groups"] = [f"Give a list of at most {MAX_GROUPS} condition groups."]
        groups = []
    for i, group in enumerate(groups):
        path = f"filters.groups.{i}"
        if not isinstance(group, dict):
            errors[path] = ["Give a condition group."]
            continue
        rollout = group.get("rollout_percentage")
        if rollout is not None and (
            not isinstance(rollout, int | float) or isinstance(rollout, bool) or not 0 <= rollout <= 100
        ):
            errors[f"{path}.rollout_percentage"] = ["Give a percentage from 0 to 100."]
        if group.get("variant") and group["variant"] not in variant_keys:
            errors[f"{path}.variant"] = [f"“{group['variant']}” is not one of the variants."]
        props = group.get("properties") or []
        if not isinstance(props, list) or len(props) > MAX_PROPERTIES:
            errors[f"{path}.properties"] = [f"Give a list of at most {MAX_PROPERTIES} conditions."]
            continue
        for j, prop in enumerate(props):
            _check_property(prop, f"{path}.properties.{j}", errors, set(others), variants_of)
        if rollout == 0:
            errors[f"{path}.rollout_percentage"] = ["A rollout of 0% never matches: remove the group instead."]
        elif (why := _never_matches(props)) is not None:
            errors[f"{path}.properties"] = [f"This group can never match: {why}"]
    payloads = filters.get("payloads") or {}
    if not isinstance(payloads, dict):
        errors["filters.payloads"] = ["Give an object of payloads by value."]
    else:
        allowed = {"true", *variant_keys}
        for name in payloads:
            if name not in allowed:
                errors[f"filters.payloads.{name}"] = [f"“{name}” is neither true nor one of the variants."]
    index = filters.get("aggregation_group_type_index")
    if index is not None and str(index) not in GROUP_TYPES:
        errors["filters.aggregation_group_type_index"] = ["Bucket by person (null) or organisation (0)."]
    overrides = definition.get("overrides") or {}
    if not isinstance(overrides, dict):
        errors["overrides"] = ["Give an object of distinct id → value."]
    else:
        for distinct_id, value in overrides.items():
            if not isinstance(value, bool) and value not in variant_keys:
                errors[f"overrides.{distinct_id}"] = ["Give true, false or one of the variants."]
    for name in ("starts_at", "ends_at"):
        try:
            _timestamp(definition.get(name))
        except ValueError as exc:
            errors[name] = [str(exc)]
    if not errors.get("starts_at") and not errors.get("ends_at"):
        start, end = _timestamp(definition.get("starts_at")), _timestamp(definition.get("ends_at"))
        if start is not None and end is not None and end <= start:
            errors["ends_at"] = ["The flag must switch off after it switches on."]
    if not errors and (cycle := _cycle(definition, others)):
        errors["filters.groups"] = [f"Flags depend on each other in a circle: {' → '.join(cycle)}."]
    return errors


def dependencies_of(definition: dict) -> set[str]:
    return {
        prop.get("key")
        for group in ((definition.get("filters") or {}).get("groups") or [])
        if isinstance(group, dict)
        for prop in (group.get("properties") or [])
        if isinstance(prop, dict) and prop.get("type") == "flag"
    }


def _cycle(definition: dict, others: dict) -> list[str] | None:
    graph = {k: dependencies_of(d) for k, d in others.items()}
    graph[definition["key"]] = dependencies_of(definition)

    def walk(node, path):
        if node in path:
            return [*path[path.index(node) :], node]
        for nxt in sorted(graph.get(node, ())):
            if found := walk(nxt, [*path, node]):
                return found
        return None

    return walk(definition["key"], [])


# --- PostHog's local-evaluation shape ------------------------------------------------------------


def dependency_chain(key: str, definitions: dict) -> list[str]:
    """`key`'s dependencies in the order they must be evaluated, `key` last."""
    order: list[str] = []

    def visit(node):
        for dep in sorted(dependencies_of(definitions.get(node) or {})):
            if dep not in order:
                visit(dep)
        if node not in order:
            order.append(node)

    visit(key)
    return order


def posthog_definition(flag: Flag, *, now: float, definitions: dict) -> dict:
    """`flag` as PostHog's local-evaluation endpoint gives it: the schedule folded into
    `active`, overrides into leading condition groups on `distinct_id` (an organisation flag's on
    `$group_key`, the key PostHog's SDKs add to each group's properties)."""
    live = flag.active and not (
        (flag.starts_at is not None and now < flag.starts_at) or (flag.ends_at is not None and now >= flag.ends_at)
    )
    filters = dict(flag.definition.get("filters") or {})
    # overrides name persons by distinct id, or organisations by key (PostHog's `$group_key`)
    if flag.group_type is None:
        named = {"key": "distinct_id", "type": "person"}
    else:
        named = {"key": "$group_key", "type": "group", "group_type_index": filters["aggregation_group_type_index"]}
    off = sorted(d for d, v in flag.overrides.items() if v is False)
    on: dict = {}
    for name, value in sorted(flag.overrides.items()):
        if value is not False:
            on.setdefault(value, []).append(name)
    exclude = [{**named, "operator": "is_not", "value": off}] if off else []
    groups = [
        {
            "properties": [{**named, "operator": "exact", "value": ids}],
            "rollout_percentage": 100,
            "variant": None if value is True else value,
        }
        for value, ids in on.items()
    ]
    for group in filters.get("groups") or []:
        properties = []
        for prop in group.get("properties") or []:
            if prop.get("type") == "flag":
                prop = {
                    **prop,
                    "operator": "flag_evaluates_to",
                    "dependency_chain": dependency_chain(prop["key"], definitions),
                }
            properties.append(prop)
        groups.append({**group, "properties": exclude + properties})
    filters["groups"] = groups
    filters["payloads"] = {
        name: payload if isinstance(payload, str) else _json(payload)
        for name, payload in (filters.get("payloads") or {}).items()
    }
    return {
        "id": flag.id,
        "key": flag.key,
        "name": flag.definition.get("name", ""),
        "active": live,
        "version": flag.version,
        "deleted": False,
        "ensure_experience_continuity": False,
        "filters": filters,
    }


def posthog_cohort(rules: list[tuple[str, str, object]]) -> dict:
    """A cohort of person-property rules (analytics' ops) in PostHog's local-evaluation shape,
    matching as analytics does: eq/ne on a text exactly (letter case counts, so a regular
    expression anchored at both ends), contains by a case-sensitive search."""
    values = []
    for key, op, value in rules:
        text = isinstance(value, str)
        if op in ("eq", "ne"):
            operator = ("regex" if op == "eq" else "not_regex") if text else ("exact" if op == "eq" else "is_not")
            expected = f"^{re.escape(value)}$" if text else value
        elif op in ("contains", "not_contains"):
            operator, expected = ("regex" if op == "contains" else "not_regex"), re.escape(str(value))
        else:  # gt, lt, is_set, is_not_set: the same words in PostHog
            operator, expected = op, value if op in ("gt", "lt") else op
        values.append({"key": key, "type": "person", "operator": operator, "value": expected})
    return {"type": "AND", "values": [{"type": "AND", "values": values}]}


def _json(value) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))
