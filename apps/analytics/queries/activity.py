"""Stickiness and lifecycle: how persons' activity (doing one event) spreads over periods.

- Stickiness: of the persons who did the event in the range, how many did it in exactly 1, 2, …
  of its periods (hours, days, weeks, months in the tenant's time zone).
- Lifecycle, for each period of the range, of the persons who did the event in it: "new" (their
  first time ever), "returning" (they did it in the period before too), "resurrecting" (not in the
  period before, but some time earlier); and "dormant": those of the period before who did not
  do it in this one. Activity before date_from counts for "new", "returning" and the rest.
"""

from zoneinfo import ZoneInfo

from . import common
from .shapes import LifecycleQuery, StickinessQuery

STEP = {"hour": "1 hour", "day": "1 day", "week": "7 days", "month": "1 month"}
STATUSES = ("new", "returning", "resurrecting", "dormant")


def _activity(query, tz: ZoneInfo, *, since) -> tuple[str, list]:
    """The distinct (person, period) pairs of the event, before the range's end (since `since`)."""
    start, end = common.bounds(query.range, tz)
    extra, params = common.where(common.filters_for(query.filters, query.exclude_test_accounts))
    lower = ' AND e."timestamp" >= %s' if since else ""
    sql = (
        'SELECT DISTINCT pdi.person_id, date_trunc(%s, e."timestamp" AT TIME ZONE %s) AS b '
        f'FROM {common.EVENTS_WITH_PERSONS} WHERE e.event = %s AND e."timestamp" < %s{lower}{extra}'
    )
    return sql, [query.interval, tz.key, query.event, end, *([start] if since else []), *params]


def stickiness(query: StickinessQuery, *, tz: ZoneInfo, counts_rows=None) -> dict:
    """{"labels": [1, 2, …, periods in the range], "values": [persons active in exactly that many]}.
    `counts_rows` fetches (periods, persons) rows (default: PostgreSQL's `stickiness_rows`)."""
    periods = len(common.buckets(query.range, query.interval))
    counts = dict((counts_rows or stickiness_rows)(query, tz=tz))
    return {"labels": list(range(1, periods + 1)), "values": [counts.get(n, 0) for n in range(1, periods + 1)]}


def stickiness_rows(query: StickinessQuery, *, tz: ZoneInfo) -> list[tuple]:
    activity, params = _activity(query, tz, since=True)
    return common.fetch(
        f"SELECT n, count(*) FROM (SELECT person_id, count(*) AS n FROM ({activity}) AS a GROUP BY 1) AS c GROUP BY 1",
        params,
    )


def lifecycle(query: LifecycleQuery, *, tz: ZoneInfo, status_rows=None) -> dict:
    """{"labels": [...], "new": [...], "returning": [...], "resurrecting": [...], "dormant": [...]}.
    `status_rows` fetches (period's local start, status, persons) rows (default: PostgreSQL's
    `lifecycle_rows`)."""
    buckets = common.buckets(query.range, query.interval)
    rows = (status_rows or lifecycle_rows)(query, tz=tz)
    out = {status: {b: 0 for b in buckets} for status in STATUSES}
    for bucket, status, count in rows:
        out[status][bucket] = count
    return {
        "labels": [common.label(b, query.interval) for b in buckets],
        **{status: list(out[status].values()) for status in STATUSES},
    }


def lifecycle_rows(query: LifecycleQuery, *, tz: ZoneInfo) -> list[tuple]:
    buckets = common.buckets(query.range, query.interval)
    activity, params = _activity(query, tz, since=False)
    step = STEP[query.interval]
    return common.fetch(
        f"""
        WITH act AS MATERIALIZED ({activity}),
             first AS (SELECT person_id, min(b) AS f FROM act GROUP BY 1)
        SELECT a.b, CASE WHEN f.f = a.b THEN 'new' WHEN p.person_id IS NOT NULL THEN 'returning'
                         ELSE 'resurrecting' END, count(*)
        FROM act a JOIN first f ON f.person_id = a.person_id
        LEFT JOIN act p ON p.person_id = a.person_id AND p.b = a.b - %s::interval
        WHERE a.b >= %s GROUP BY 1, 2
        UNION ALL
        SELECT p.b + %s::interval, 'dormant', count(*)
        FROM act p LEFT JOIN act a ON a.person_id = p.person_id AND a.b = p.b + %s::interval
        WHERE a.person_id IS NULL AND p.b + %s::interval BETWEEN %s AND %s GROUP BY 1
        """,
        [*params, step, buckets[0], step, step, step, buckets[0], buckets[-1]],
    )
