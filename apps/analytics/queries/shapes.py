"""The query shapes of insights: typed, validated from JSON, with errors naming the field.

`query_parse(data)` turns a query's JSON into one of TrendsQuery, FunnelQuery, RetentionQuery,
StickinessQuery, LifecycleQuery, PathsQuery, or raises django's ValidationError({"query.<field path>":
["message"]}), e.g. {"query.series.0.math": [...]}: the API answers it as a 422 naming each field.
docs/apps/analytics.md describes every field.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError

INTERVALS = ("hour", "day", "week", "month")
MATHS = ("total", "unique_persons", "sum", "avg")
OPS = ("eq", "ne", "contains", "not_contains", "gt", "lt", "is_set", "is_not_set")
COHORT_OPS = ("in", "not_in")
FUNNEL_ORDERS = ("ordered", "strict", "any")
RETENTION_KINDS = ("first_time", "recurring")
MAX_DAYS = 366
MAX_HOURS_DAYS = 31  # hourly buckets over at most a month
MAX_NAME = 200


@dataclass(frozen=True)
class Behaviour:
    """A cohort's rule on behaviour: did `event` at least `min_count` times in the `days` before
    the query runs (`since`, set when the cohort is read for a query)."""

    event: str
    min_count: int = 1
    days: int = 30
    since: datetime | None = None


@dataclass(frozen=True)
class CohortRule:
    """A cohort as a query sees it: static (its members in CohortMember, by `id`) or by rules
    (all of `filters`, on the person's properties, and all of `behaviours` hold)."""

    id: int
    static: bool
    filters: tuple["Filter", ...] = ()
    behaviours: tuple[Behaviour, ...] = ()


@dataclass(frozen=True)
class Filter:
    type: str  # "event", "person" or "cohort"
    key: str  # "" for a cohort
    op: str  # OPS; for a cohort "in" or "not_in"
    value: str | int | float | bool | None = None  # for a cohort, its id
    cohort: CohortRule | None = None  # a cohort filter's cohort, read when the query is parsed


@dataclass(frozen=True)
class Series:
    event: str
    math: str = "total"
    property: str | None = None
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class Breakdown:
    property: str
    type: str = "event"
    limit: int = 5


@dataclass(frozen=True)
class Range:
    date_from: date
    date_to: date  # inclusive, both in the tenant's time zone

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> "Range":
        return Range(self.date_from - timedelta(days=self.days), self.date_from - timedelta(days=1))


@dataclass(frozen=True)
class TrendsQuery:
    range: Range
    series: tuple[Series, ...]
    interval: str = "day"
    breakdown: Breakdown | None = None
    compare: bool = False
    filters: tuple[Filter, ...] = ()
    exclude_test_accounts: bool = False
    kind: str = "trends"


@dataclass(frozen=True)
class Step:
    event: str
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class FunnelQuery:
    range: Range
    steps: tuple[Step, ...]
    order: str = "ordered"
    window_seconds: int = 14 * 86400
    breakdown: Breakdown | None = None
    filters: tuple[Filter, ...] = ()
    exclude_test_accounts: bool = False
    # Asking for persons instead of counts: those who reached step `persons.step` (0-based), or
    # those who reached the step before it and not it ("dropped"), a page at a time.
    persons: "PersonsPage | None" = None
    kind: str = "funnel"


@dataclass(frozen=True)
class PersonsPage:
    step: int
    status: str = "dropped"
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True)
class RetentionQuery:
    range: Range
    start_event: str
    return_event: str
    period: str = "day"
    periods: int = 7
    retention_type: str = "first_time"
    filters: tuple[Filter, ...] = ()
    exclude_test_accounts: bool = False
    kind: str = "retention"


@dataclass(frozen=True)
class _PerInterval:
    """A query about one event's activity per period."""

    range: Range
    event: str
    interval: str = "day"
    filters: tuple[Filter, ...] = ()
    exclude_test_accounts: bool = False


@dataclass(frozen=True)
class StickinessQuery(_PerInterval):
    kind: str = "stickiness"


@dataclass(frozen=True)
class LifecycleQuery(_PerInterval):
    kind: str = "lifecycle"


@dataclass(frozen=True)
class PathsQuery:
    """The paths persons take after `start_event` (or before `end_event`), session by session."""

    range: Range
    start_event: str | None = None
    end_event: str | None = None
    steps: int = 5  # events on a path, the start (or end) event included
    limit: int = 10  # transitions kept per step, the most frequent
    session_seconds: int = 30 * 60  # a longer gap between two events starts a new session
    exclude_events: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    exclude_test_accounts: bool = False
    kind: str = "paths"


Query = TrendsQuery | FunnelQuery | RetentionQuery | StickinessQuery | LifecycleQuery | PathsQuery
CohortLookup = Callable[[int], CohortRule | None]


class _Errors:
    """Collects field errors, named under `prefix` ("query.series.0.math"); raises them at once.
    `cohorts` finds a cohort filter's cohort by id (None where cohorts cannot be used)."""

    def __init__(self, prefix: str = "query", cohorts: CohortLookup | None = None):
        self.prefix = prefix
        self.errors: dict[str, list[str]] = {}
        self.cohorts = cohorts

    def add(self, path: str, message: str) -> None:
        if not self.prefix:
            name = path
        else:
            name = f"{self.prefix}.{path}" if path and path != self.prefix else self.prefix
        self.errors.setdefault(name, []).append(message)

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _obj(data, path, errors) -> dict | None:
    if not isinstance(data, dict):
        errors.add(path or "query", "Give a JSON object.")
        return None
    return data


def _name(data, key, path, errors, *, required=True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        errors.add(path, "Give a name (text).")
        return None
    if len(value) > MAX_NAME:
        errors.add(path, f"Use at most {MAX_NAME} characters.")
        return None
    if not _storable(value):
        errors.add(path, "Remove the NUL characters and lone surrogates: PostgreSQL cannot store them.")
        return None
    return value


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _choice(data, key, path, choices, default, errors) -> str:
    value = data.get(key, default)
    if value not in choices:
        errors.add(path, f"Choose one of: {', '.join(choices)}.")
        return default
    return value


def _int(data, key, path, default, low, high, errors) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.add(path, f"Give a whole number from {low} to {high}.")
        return default
    return value


def _bool(data, key, path, errors) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        errors.add(path, "Give true or false.")
        return False
    return value


def _date(data, key, path, errors) -> date | None:
    value = data.get(key)
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.add(path, "Give a date as YYYY-MM-DD.")
    return None


def _range(data, errors, *, max_days=MAX_DAYS) -> Range | None:
    date_from = _date(data, "date_from", "date_from", errors)
    date_to = _date(data, "date_to", "date_to", errors)
    if date_from is None or date_to is None:
        return None
    if date_to < date_from:
        errors.add("date_to", "date_to must be on or after date_from.")
        return None
    if (date_to - date_from).days + 1 > max_days:
        errors.add("date_to", f"A query covers at most {max_days} days.")
        return None
    return Range(date_from, date_to)


def _cohort_filter(data, path, errors) -> Filter:
    op = _choice(data, "op", f"{path}.op", COHORT_OPS, "in", errors)
    value = data.get("value")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        errors.add(f"{path}.value", "Give the cohort's id (a whole number).")
        return Filter("cohort", "", op, None)
    if errors.cohorts is None:
        errors.add(f"{path}.type", "A cohort cannot be used here.")
        return Filter("cohort", "", op, value)
    rule = errors.cohorts(value)
    if rule is None:
        errors.add(f"{path}.value", f"There is no cohort {value} in this organisation.")
    return Filter("cohort", "", op, value, cohort=rule)


def _filter(data, path, errors) -> Filter | None:
    if _obj(data, path, errors) is None:
        return None
    ftype = _choice(data, "type", f"{path}.type", ("event", "person", "cohort"), "event", errors)
    if ftype == "cohort":
        return _cohort_filter(data, path, errors)
    key = _name(data, "key", f"{path}.key", errors)
    op = _choice(data, "op", f"{path}.op", OPS, "eq", errors)
    value = data.get("value")
    if op in ("is_set", "is_not_set"):
        value = None
    elif op in ("contains", "not_contains"):
        if not isinstance(value, str) or not value:
            errors.add(f"{path}.value", "Give the text to look for.")
    elif op in ("gt", "lt"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.add(f"{path}.value", "Give a number.")
    elif not isinstance(value, str | int | float | bool) or (isinstance(value, str) and len(value) > 1000):
        errors.add(f"{path}.value", "Give a text, a number or true/false.")
    if isinstance(value, float) and not Decimal(repr(value)).is_finite():
        errors.add(f"{path}.value", "Give a finite number.")
    if isinstance(value, str) and not _storable(value):
        errors.add(f"{path}.value", "Remove the NUL characters and lone surrogates: PostgreSQL cannot store them.")
    return Filter(ftype, key or "", op, value)


def _filters(data, key, path, errors, *, most=20) -> tuple[Filter, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > most:
        errors.add(path, f"Give a list of at most {most} filters.")
        return ()
    return tuple(f for i, item in enumerate(value) if (f := _filter(item, f"{path}.{i}", errors)))


def _breakdown(data, errors) -> Breakdown | None:
    value = data.get("breakdown")
    if value is None:
        return None
    if _obj(value, "breakdown", errors) is None:
        return None
    prop = _name(value, "property", "breakdown.property", errors)
    btype = _choice(value, "type", "breakdown.type", ("event", "person"), "event", errors)
    limit = _int(value, "limit", "breakdown.limit", 5, 1, 25, errors)
    return Breakdown(prop or "", btype, limit)


def _common(data, errors) -> dict:
    return {
        "filters": _filters(data, "filters", "filters", errors),
        "exclude_test_accounts": _bool(data, "exclude_test_accounts", "exclude_test_accounts", errors),
    }


def _trends(data, errors) -> TrendsQuery:
    rng = _range(data, errors)
    interval = _choice(data, "interval", "interval", INTERVALS, "day", errors)
    if rng and interval == "hour" and rng.days > MAX_HOURS_DAYS:
        errors.add("interval", f"Hourly trends cover at most {MAX_HOURS_DAYS} days; choose day, week or month.")
    raw_series = data.get("series")
    series = []
    if not isinstance(raw_series, list) or not 1 <= len(raw_series) <= 5:
        errors.add("series", "Give a list of 1 to 5 series.")
        raw_series = []
    for i, item in enumerate(raw_series):
        path = f"series.{i}"
        if _obj(item, path, errors) is None:
            continue
        event = _name(item, "event", f"{path}.event", errors)
        math = _choice(item, "math", f"{path}.math", MATHS, "total", errors)
        prop = None
        if math in ("sum", "avg"):
            prop = _name(item, "property", f"{path}.property", errors)
        series.append(Series(event or "", math, prop, _filters(item, "filters", f"{path}.filters", errors)))
    return TrendsQuery(
        range=rng,
        series=tuple(series),
        interval=interval,
        breakdown=_breakdown(data, errors),
        compare=_bool(data, "compare", "compare", errors),
        **_common(data, errors),
    )


def _funnel(data, errors) -> FunnelQuery:
    rng = _range(data, errors)
    raw_steps = data.get("steps")
    steps = []
    if not isinstance(raw_steps, list) or not 2 <= len(raw_steps) <= 10:
        errors.add("steps", "Give a list of 2 to 10 steps.")
        raw_steps = []
    for i, item in enumerate(raw_steps):
        path = f"steps.{i}"
        if _obj(item, path, errors) is None:
            continue
        event = _name(item, "event", f"{path}.event", errors)
        steps.append(Step(event or "", _filters(item, "filters", f"{path}.filters", errors)))
    window = data.get("window", {"days": 14})
    seconds = 14 * 86400
    if not isinstance(window, dict) or len(window) != 1 or next(iter(window)) not in ("minutes", "hours", "days"):
        errors.add("window", 'Give the conversion window as {"days": 14}, {"hours": …} or {"minutes": …}.')
    else:
        unit = next(iter(window))
        amount = _int(
            window, unit, f"window.{unit}", 14, 1, {"minutes": 525600, "hours": 8760, "days": 365}[unit], errors
        )
        seconds = amount * {"minutes": 60, "hours": 3600, "days": 86400}[unit]
    return FunnelQuery(
        range=rng,
        steps=tuple(steps),
        order=_choice(data, "order", "order", FUNNEL_ORDERS, "ordered", errors),
        window_seconds=seconds,
        breakdown=_breakdown(data, errors),
        persons=_persons_page(data, len(steps), errors),
        **_common(data, errors),
    )


def _persons_page(data, steps: int, errors) -> PersonsPage | None:
    value = data.get("persons")
    if value is None or _obj(value, "persons", errors) is None:
        return None
    status = _choice(value, "status", "persons.status", ("dropped", "reached"), "dropped", errors)
    low = 1 if status == "dropped" else 0
    return PersonsPage(
        step=_int(value, "step", "persons.step", low, low, max(steps - 1, low), errors),
        status=status,
        offset=_int(value, "offset", "persons.offset", 0, 0, 10**9, errors),
        limit=_int(value, "limit", "persons.limit", 100, 1, 1000, errors),
    )


def _retention(data, errors) -> RetentionQuery:
    rng = _range(data, errors)
    return RetentionQuery(
        range=rng,
        start_event=_name(data, "start_event", "start_event", errors) or "",
        return_event=_name(data, "return_event", "return_event", errors) or "",
        period=_choice(data, "period", "period", ("day", "week", "month"), "day", errors),
        periods=_int(data, "periods", "periods", 7, 1, 60, errors),
        retention_type=_choice(data, "retention_type", "retention_type", RETENTION_KINDS, "first_time", errors),
        **_common(data, errors),
    )


def _per_interval(cls):
    def parse(data, errors):
        rng = _range(data, errors)
        interval = _choice(data, "interval", "interval", INTERVALS, "day", errors)
        if rng and interval == "hour" and rng.days > MAX_HOURS_DAYS:
            errors.add("interval", f"By the hour, a query covers at most {MAX_HOURS_DAYS} days.")
        event = _name(data, "event", "event", errors) or ""
        return cls(range=rng, event=event, interval=interval, **_common(data, errors))

    return parse


def _paths(data, errors) -> PathsQuery:
    rng = _range(data, errors)
    start = _name(data, "start_event", "start_event", errors, required=False)
    end = _name(data, "end_event", "end_event", errors, required=False)
    if (data.get("start_event") is None) == (data.get("end_event") is None):
        errors.add("start_event", "Give either start_event (paths after it) or end_event (paths before it).")
    excluded = data.get("exclude_events", [])
    names = []
    if not isinstance(excluded, list) or len(excluded) > 20:
        errors.add("exclude_events", "Give a list of at most 20 event names.")
        excluded = []
    for i, item in enumerate(excluded):
        names.append(_name({"event": item}, "event", f"exclude_events.{i}", errors) or "")
    if start in names or end in names:
        errors.add("exclude_events", "Do not exclude the event the paths start or end at.")
    return PathsQuery(
        range=rng,
        start_event=start,
        end_event=end,
        steps=_int(data, "steps", "steps", 5, 2, 10, errors),
        limit=_int(data, "limit", "limit", 10, 1, 50, errors),
        session_seconds=60 * _int(data, "session_minutes", "session_minutes", 30, 1, 24 * 60, errors),
        exclude_events=tuple(names),
        **_common(data, errors),
    )


KINDS = {
    "trends": _trends,
    "funnel": _funnel,
    "retention": _retention,
    "stickiness": _per_interval(StickinessQuery),
    "lifecycle": _per_interval(LifecycleQuery),
    "paths": _paths,
}


def filters_parse(data, path: str, *, types=("event", "person", "cohort")) -> tuple[Filter, ...]:
    """A list of filters (e.g. a setting's, or a cohort's rules, `types` allowed); ValidationError
    naming the field at fault. No cohort can be used in them."""
    errors = _Errors(prefix="")
    filters = _filters({"filters": data}, "filters", path, errors)
    for i, f in enumerate(filters):
        if f.type not in types:
            errors.add(f"{path}.{i}.type", f"Choose one of: {', '.join(types)}.")
    errors.raise_any()
    return filters


def query_parse(data, *, cohorts: CohortLookup | None = None) -> Query:
    """The query `data` (JSON) describes; ValidationError naming every field at fault.

    `cohorts(id)` gives a cohort filter's cohort (None: no such cohort, a 422 naming the field);
    without it a cohort filter is refused. cohorts.query_read(data) parses with the current
    tenant's cohorts: what the API and services call."""
    errors = _Errors(cohorts=cohorts)
    if _obj(data, "", errors) is None:
        errors.raise_any()
    kind = data.get("kind")
    if kind not in KINDS:
        errors.add("kind", f"Choose one of: {', '.join(KINDS)}.")
        errors.raise_any()
    query = KINDS[kind](data, errors)
    errors.raise_any()
    return query
