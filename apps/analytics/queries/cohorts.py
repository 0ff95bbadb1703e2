"""Cohorts as queries see them: a cohort's rules checked and read into a CohortRule.

A rule-based cohort is evaluated when a query runs (common.cohort_sql): its behaviours ("did X at
least N times in the last D days") count from the moment the query is parsed. Nothing is cached
apart from a query's whole answer (queries/run.py), whose version changes with every cohort
change, and which expires after HUB_ANALYTICS_QUERY_CACHE_SECONDS.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from ..models import Cohort
from .shapes import MAX_NAME, Behaviour, CohortRule, Query, filters_parse, query_parse

MAX_BEHAVIOURS = 5


def rules_check(*, filters, behaviours) -> tuple[tuple, tuple[Behaviour, ...]]:
    """A rule-based cohort's rules, checked: person-property filters (as in a query, type
    "person") and behaviours [{"event", "min_count", "days"}]. ValidationError naming the field
    (filters.0.op, behaviours.1.days); at least one rule."""
    errors: dict[str, list[str]] = {}
    parsed = ()
    try:
        parsed = filters_parse(filters if filters is not None else [], "filters", types=("person",))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    found = []
    if behaviours is None:
        behaviours = []
    if not isinstance(behaviours, list) or len(behaviours) > MAX_BEHAVIOURS:
        errors["behaviours"] = [f"Give a list of at most {MAX_BEHAVIOURS} behaviours."]
        behaviours = []
    for i, item in enumerate(behaviours):
        path = f"behaviours.{i}"
        if not isinstance(item, dict):
            errors[path] = ['Give {"event": "…", "min_count": 1, "days": 30}.']
            continue
        event = item.get("event")
        if not isinstance(event, str) or not event.strip() or len(event) > MAX_NAME or "\x00" in event:
            errors[f"{path}.event"] = [f"Give the event's name (at most {MAX_NAME} characters)."]
        numbers = {}
        for key, default, high in (("min_count", 1, 10_000), ("days", 30, 365)):
            value = item.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
                errors[f"{path}.{key}"] = [f"Give a whole number from 1 to {high}."]
            numbers[key] = value
        if not errors:
            found.append(Behaviour(event, numbers["min_count"], numbers["days"]))
    if not errors and not parsed and not found:
        errors["filters"] = ["Give at least one rule: a person property filter or a behaviour."]
    if errors:
        raise ValidationError(errors)
    return parsed, tuple(found)


def rule_of(cohort, *, now=None) -> CohortRule:
    """The CohortRule of a Cohort row; behaviours count from `now` (default: this moment)."""
    if cohort.kind == cohort.STATIC:
        return CohortRule(id=cohort.pk, static=True)
    now = now or timezone.now()
    filters, behaviours = rules_check(filters=cohort.filters, behaviours=cohort.behaviours)
    return CohortRule(
        id=cohort.pk,
        static=False,
        filters=filters,
        behaviours=tuple(
            Behaviour(b.event, b.min_count, b.days, since=now - timedelta(days=b.days)) for b in behaviours
        ),
    )


def cohort_rule(cohort_id: int) -> CohortRule | None:
    """The current tenant's cohort `cohort_id` as a query sees it, or None when it has none."""
    cohort = Cohort.objects.filter(pk=cohort_id).first()
    return rule_of(cohort) if cohort else None


def query_read(data) -> Query:
    """query_parse with the current tenant's cohorts: a cohort filter naming a cohort the tenant
    does not have is refused, naming the field (query.filters.0.value)."""
    return query_parse(data, cohorts=cohort_rule)


def cohort_ids_in(data) -> set[int]:
    """The ids of the cohorts a query's JSON filters on (wherever its filters are)."""
    found = set()
    if isinstance(data, dict):
        if data.get("type") == "cohort" and isinstance(data.get("value"), int):
            found.add(data["value"])
        for value in data.values():
            found |= cohort_ids_in(value)
    elif isinstance(data, list):
        for value in data:
            found |= cohort_ids_in(value)
    return found
