"""Retention: of the persons who did the start event in a period, how many came back (did the
return event) in each following period.

- "first_time": a person's cohort is the period of their first start event ever (it must fall in
  the range); "recurring": a person is in the cohort of every period of the range in which they
  did the start event.
- Period 0 is the cohort's size; period n its persons who did the return event in the n-th period
  after the cohort's. Periods are days, weeks (from Monday) or months in the tenant's time zone.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from . import common
from .shapes import RetentionQuery


def periods_between(first: datetime, later: datetime, period: str) -> int:
    if period == "month":
        return (later.year - first.year) * 12 + later.month - first.month
    return (later - first).days // (7 if period == "week" else 1)


def returns_end_of(query: RetentionQuery):
    """The local start of the period after the last one a return can count in."""
    returns_end = common.buckets(query.range, query.period)[-1]
    for _ in range(query.periods):
        returns_end = common.bucket_next(returns_end, query.period)
    return returns_end


def retention(query: RetentionQuery, *, tz: ZoneInfo, cohort_rows=None) -> dict:
    """The cohorts' table; `cohort_rows` fetches (cohort, return period or None for the cohort's
    size, persons) rows, local naive datetimes (default: `retention_rows`, PostgreSQL)."""
    cohort_starts = common.buckets(query.range, query.period)
    rows = (cohort_rows or retention_rows)(query, tz=tz)
    return table(query, cohort_starts, rows)


def retention_rows(query: RetentionQuery, *, tz: ZoneInfo) -> list[tuple]:
    start, end = common.bounds(query.range, tz)
    returns_end = returns_end_of(query)
    extra, params = common.where(common.filters_for(query.filters, query.exclude_test_accounts))
    trunc = 'date_trunc(%s, e."timestamp" AT TIME ZONE %s)'
    if query.retention_type == "first_time":
        starts = (
            f'SELECT pdi.person_id, min(e."timestamp") AS first FROM {common.EVENTS_WITH_PERSONS} '
            f'WHERE e.event = %s AND e."timestamp" < %s{extra} GROUP BY 1'
        )
        cohorts = (
            f"SELECT person_id, date_trunc(%s, first AT TIME ZONE %s) AS cohort FROM ({starts}) AS s WHERE first >= %s"
        )
        cohort_params = [query.period, tz.key, query.start_event, end, *params, start]
    else:
        cohorts = (
            f"SELECT DISTINCT pdi.person_id, {trunc} AS cohort FROM {common.EVENTS_WITH_PERSONS} "
            f'WHERE e.event = %s AND e."timestamp" >= %s AND e."timestamp" < %s{extra}'
        )
        cohort_params = [query.period, tz.key, query.start_event, start, end, *params]
    returns = (
        f"SELECT DISTINCT pdi.person_id, {trunc} AS bucket FROM {common.EVENTS_WITH_PERSONS} "
        f'WHERE e.event = %s AND e."timestamp" >= %s AND e."timestamp" < %s{extra}'
    )
    return_params = [query.period, tz.key, query.return_event, start, returns_end.replace(tzinfo=tz), *params]
    return cohort_return_rows(cohorts, cohort_params, returns, return_params)


def cohorts_answer(
    query: RetentionQuery, cohorts: str, cohort_params: list, returns: str, return_params: list, *, inline=False
) -> dict:
    """The answer from two statements: `cohorts` gives (person_id, cohort) and `returns`
    (person_id, bucket), both as local period starts (the raw engine's and the rollups')."""
    rows = cohort_return_rows(cohorts, cohort_params, returns, return_params, inline=inline)
    return table(query, common.buckets(query.range, query.period), rows)


def cohort_return_rows(
    cohorts: str, cohort_params: list, returns: str, return_params: list, *, inline: bool = False
) -> list[tuple]:
    """(cohort, return period or None for the cohort's size, persons) from the two statements.

    Raw events: each statement runs once (MATERIALIZED), as both are costly. `inline` (the
    rollups, whose statements are index-only reads): the statements go into the query as they
    are, so the planner knows their sizes and hashes the cohorts to probe the returns, where on
    materialized rows (no statistics) it sorted both sides for a merge join, the returns'
    900,000 rows of the 10M-event benchmark on disk."""
    if not inline:
        return common.fetch_big(
            f"WITH cohorts AS MATERIALIZED ({cohorts}), returns AS MATERIALIZED ({returns}) "
            "SELECT c.cohort, NULL::timestamp, count(*) FROM cohorts c GROUP BY 1 "
            "UNION ALL "
            "SELECT c.cohort, r.bucket, count(*) FROM cohorts c "
            "JOIN returns r ON r.person_id = c.person_id AND r.bucket > c.cohort GROUP BY 1, 2",
            [*cohort_params, *return_params],
        )
    return common.fetch_big(
        f"SELECT c.cohort, NULL::timestamp, count(*) FROM ({cohorts}) c GROUP BY 1 "
        "UNION ALL "
        f"SELECT c.cohort, r.bucket, count(*) FROM ({cohorts}) c "
        f"JOIN ({returns}) r ON r.person_id = c.person_id AND r.bucket > c.cohort GROUP BY 1, 2",
        [*cohort_params, *cohort_params, *return_params],
    )


def table(query: RetentionQuery, cohort_starts, rows) -> dict:
    """The answer from (cohort, return period or None for the cohort's size, persons) rows."""
    values = {b: [0] * query.periods for b in cohort_starts}
    for cohort, bucket, count in rows:
        if bucket is None:
            values[cohort][0] = count
            continue
        n = periods_between(cohort, bucket, query.period)
        if n < query.periods:
            values[cohort][n] = count
    return {
        "cohorts": [
            {"label": common.label(b, query.period), "persons": values[b][0], "values": values[b]}
            for b in cohort_starts
        ]
    }
