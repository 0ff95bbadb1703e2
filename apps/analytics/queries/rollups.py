"""Answers from the rollups (apps/analytics/rollups.py says what they hold and how they are
kept): the same results as the raw engine, for the queries they serve; None for the others."""

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .. import storage
from ..storage import (
    DAILY_PERSONS,
    DAILY_UNIQUES,
    FIRST_DAYS,
    HOURLY,
    PERIOD_BITS,
    PERIOD_PERSONS,
    PERIODS,
    period_number,
    period_number_of,
)
from . import common
from .retention import cohorts_answer, table
from .shapes import RetentionQuery, TrendsQuery


@functools.lru_cache(maxsize=1024)
def whole_hours(zone: str, first: date, last: date) -> bool:
    """Whether `zone`'s offset from UTC is a whole number of hours all through the days (checked
    every 3 hours of each day: offsets change at most twice a year, at a whole hour)."""
    tz = ZoneInfo(zone)
    day = first - timedelta(days=1)
    while day <= last + timedelta(days=1):
        for hour in range(0, 24, 3):
            offset = datetime(day.year, day.month, day.day, hour, tzinfo=tz).utcoffset()
            if offset.total_seconds() % 3600:
                return False
        day += timedelta(days=1)
    return True


def _trends_servable(query: TrendsQuery, zone: str, rollup_zone: str) -> bool:
    if query.filters or query.exclude_test_accounts or query.breakdown is not None:
        return False
    ranges = [query.range, query.range.previous()] if query.compare else [query.range]
    for series in query.series:
        if series.filters or series.math not in ("total", "unique_persons"):
            return False
        if series.math == "total" and not all(whole_hours(zone, r.date_from, r.date_to) for r in ranges):
            return False
        if series.math == "unique_persons" and (query.interval == "hour" or zone != rollup_zone):
            return False
    return True


def _retention_servable(query: RetentionQuery, zone: str, rollup_zone: str) -> bool:
    return not query.filters and not query.exclude_test_accounts and zone == rollup_zone


def answer(query, tz: ZoneInfo) -> dict | None:
    """The query's result from the rollups, or None when they cannot give it (see the module's
    docstring): the caller then runs it on raw events."""
    if not isinstance(query, TrendsQuery | RetentionQuery):
        return None
    current = storage.rollup_state()
    if current is None or current[1] is None:
        return None
    if isinstance(query, TrendsQuery):
        if not _trends_servable(query, tz.key, current[0]):
            return None
        return trends(query, tz=tz)
    if not _retention_servable(query, tz.key, current[0]):
        return None
    return retention(query, tz=tz)


def _whole_periods(rng, interval: str) -> bool:
    """Whether the range is whole weeks (months): then each period's persons are all in range."""
    first = datetime.combine(rng.date_from, datetime.min.time())
    after = datetime.combine(rng.date_to + timedelta(days=1), datetime.min.time())
    return common.bucket_start(first, interval) == first and common.bucket_start(after, interval) == after


def _values(query: TrendsQuery, event: str, math: str, rng, tz: ZoneInfo) -> dict:
    """{local bucket start: value} of one series over `rng`."""
    q = storage.qualified
    if math == "total":
        start, end = common.bounds(rng, tz)
        sql = (
            f"SELECT date_trunc(%s, hour AT TIME ZONE %s), sum(events) FROM {q(HOURLY)} "
            "WHERE event = %s AND hour >= %s AND hour < %s GROUP BY 1"
        )
        return dict(common.fetch(sql, [query.interval, tz.key, event, start, end]))
    if query.interval == "day":
        sql = f"SELECT day::timestamp, persons FROM {q(DAILY_UNIQUES)} WHERE event = %s AND day BETWEEN %s AND %s"
        return dict(common.fetch(sql, [event, rng.date_from, rng.date_to]))
    if _whole_periods(rng, query.interval):
        sql = (
            f"SELECT start::timestamp, count(*) FROM {q(PERIOD_PERSONS)} "
            "WHERE event = %s AND period = %s AND start BETWEEN %s AND %s GROUP BY 1"
        )
        return dict(common.fetch(sql, [event, PERIODS[query.interval], rng.date_from, rng.date_to]))
    sql = (
        f"SELECT date_trunc(%s, day::timestamp), count(DISTINCT person_id) FROM {q(DAILY_PERSONS)} "
        "WHERE event = %s AND day BETWEEN %s AND %s GROUP BY 1"
    )
    return dict(common.fetch(sql, [query.interval, event, rng.date_from, rng.date_to]))


def trends(query: TrendsQuery, *, tz: ZoneInfo) -> dict:
    """The same answer as queries.trends.trends, from the rollups (for queries they serve)."""
    labels = common.buckets(query.range, query.interval)
    out = []
    for series in query.series:
        values = _values(query, series.event, series.math, query.range, tz)
        item = {
            "event": series.event,
            "math": series.math,
            "values": [common.number(values.get(b, 0)) for b in labels],
        }
        if query.compare:
            previous = query.range.previous()
            prev_labels = common.buckets(previous, query.interval)
            prev_values = _values(query, series.event, series.math, previous, tz)
            item["previous"] = {
                "labels": [common.label(b, query.interval) for b in prev_labels],
                "values": [common.number(prev_values.get(b, 0)) for b in prev_labels],
            }
        out.append(item)
    return {"labels": [common.label(b, query.interval) for b in labels], "series": out}


def retention(query: RetentionQuery, *, tz: ZoneInfo) -> dict:
    """The same answer as queries.retention.retention, from the rollups: the cohorts from
    first_days (first-time) or daily_persons (recurring), the returns from daily_persons by day,
    from period_bits by week and month."""
    q = storage.qualified
    cohort_starts = common.buckets(query.range, query.period)
    returns_end = cohort_starts[-1]
    for _ in range(query.periods):
        returns_end = common.bucket_next(returns_end, query.period)
    if query.retention_type == "first_time":
        cohorts = (
            f"SELECT person_id, date_trunc(%s, day::timestamp) AS cohort FROM {q(FIRST_DAYS)} "
            "WHERE event = %s AND day BETWEEN %s AND %s"
        )
        cohort_params = [query.period, query.start_event, query.range.date_from, query.range.date_to]
    else:
        cohorts = (
            f"SELECT DISTINCT person_id, date_trunc(%s, day::timestamp) AS cohort FROM {q(DAILY_PERSONS)} "
            "WHERE event = %s AND day BETWEEN %s AND %s"
        )
        cohort_params = [query.period, query.start_event, query.range.date_from, query.range.date_to]
    if query.period == "day":
        returns = (
            f"SELECT person_id, day::timestamp AS bucket FROM {q(DAILY_PERSONS)} "
            "WHERE event = %s AND day >= %s AND day < %s"
        )
        return_params = [query.return_event, query.range.date_from, returns_end.date()]
        return cohorts_answer(query, cohorts, cohort_params, returns, return_params, inline=True)
    return table(query, cohort_starts, _period_rows(query, cohort_starts, cohorts, cohort_params))


def _period_rows(query: RetentionQuery, cohort_starts, cohorts: str, cohort_params: list) -> list[tuple]:
    """Weekly or monthly retention's (cohort, return period or None for the cohort's size,
    persons), the returns from PERIOD_BITS: each cohort person's rows (one, two when the periods
    cross a block's end) are read once, and the k-th period after their cohort's is one bit of
    one of them. Only the periods after a cohort's count, up to its last (`periods` - 1 after).
    (OFFSET 0: each cohort person's number is computed once, not in every count.)"""
    q = storage.qualified
    period = PERIODS[query.period]
    rows = common.fetch(f"SELECT cohort, NULL::timestamp, count(*) FROM ({cohorts}) AS c GROUP BY 1", cohort_params)
    if query.periods < 2:
        return rows
    later = range(1, query.periods)
    counted = ", ".join(
        f"count(*) FILTER (WHERE b.block = (c.n + {k}) >> 6 AND (b.bits >> ((c.n + {k}) & 63)) & 1 = 1)" for k in later
    )
    first = period_number_of(cohort_starts[0].date(), period) + 1
    last = period_number_of(cohort_starts[-1].date(), period) + query.periods - 1
    sql = f"""
        SELECT c.cohort, {counted}
        FROM (SELECT person_id, cohort, {period_number("cohort::date", "%s")} AS n FROM ({cohorts}) AS c OFFSET 0) AS c
        JOIN {q(PERIOD_BITS)} b ON b.person_id = c.person_id
        WHERE b.event = %s AND b.period = %s AND b.block BETWEEN %s AND %s
          AND b.block BETWEEN (c.n + 1) >> 6 AND (c.n + {query.periods - 1}) >> 6
        GROUP BY 1
    """
    params = [period, *cohort_params, query.return_event, period, first >> 6, last >> 6]
    for cohort, *counts in common.fetch_big(sql, params):
        bucket = cohort
        for count in counts:
            bucket = common.bucket_next(bucket, query.period)
            rows.append((cohort, bucket, count))
    return rows
