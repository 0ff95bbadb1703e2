"""An experiment's outcomes per variant, from the PostgreSQL event store (the ClickHouse store
answers the same from its own SQL: stores/chqueries.py).

A person is exposed when a `$feature_flag_called` event of the flag was captured for any of
their distinct ids inside the window; their variant is the response of their first exposure,
and persons who were served more than one variant are left out (counted apart). The goal is
reached by the goal event (only those matching the metric's event-property filters, if any) at
or after the person's first exposure, inside the window: an ordered two-step funnel (exposure →
goal). Each person's goal events are counted and the goal's numeric property summed, so the
caller gets sufficient statistics per variant:

    (variant, exposed, converted, Σ count, Σ count², Σ value, Σ value²)
"""

from datetime import datetime

from . import common

EXPOSURE = "$feature_flag_called"


def outcomes(*, flag_key: str, goal_event: str, prop: str, start: datetime, end: datetime, goal_filters=()) -> dict:
    """{"variants": {variant: (exposed, converted, n, n², value, value²)}, "mixed": persons
    served several variants}. `goal_filters`: event filters (shapes.Filter) the goal events meet."""
    extra, extra_params = common.where(goal_filters)
    sql = f"""
        WITH exposed AS (
            SELECT pdi.person_id, min(e."timestamp") AS first_at,
                   (array_agg(e.properties ->> '$feature_flag_response' ORDER BY e."timestamp", e.uuid))[1] AS variant,
                   count(DISTINCT e.properties ->> '$feature_flag_response') AS served
            FROM analytics_event e JOIN analytics_persondistinctid pdi ON pdi.distinct_id = e.distinct_id
            WHERE e.event = %s AND e.properties ->> '$feature_flag' = %s
              AND e."timestamp" >= %s AND e."timestamp" < %s
            GROUP BY pdi.person_id
        ), goals AS (
            SELECT x.person_id, count(*)::float8 AS n,
                   sum(CASE WHEN jsonb_typeof(e.properties -> %s) = 'number'
                            THEN (e.properties ->> %s)::float8 ELSE 0 END) AS value
            FROM exposed x
            JOIN analytics_persondistinctid pdi ON pdi.person_id = x.person_id
            JOIN analytics_event e ON e.distinct_id = pdi.distinct_id
            WHERE x.served = 1 AND e.event = %s AND e."timestamp" >= x.first_at AND e."timestamp" < %s{extra}
            GROUP BY x.person_id
        )
        SELECT CASE WHEN x.served = 1 THEN x.variant END, count(*), count(g.person_id),
               coalesce(sum(g.n), 0), coalesce(sum(g.n * g.n), 0),
               coalesce(sum(g.value), 0), coalesce(sum(g.value * g.value), 0)
        FROM exposed x LEFT JOIN goals g ON g.person_id = x.person_id
        GROUP BY 1
    """
    return shaped(common.fetch(sql, [EXPOSURE, flag_key, start, end, prop, prop, goal_event, end, *extra_params]))


def shaped(rows) -> dict:
    """outcomes()'s answer from rows (variant or None for the mixed, exposed, converted, Σ count,
    Σ count², Σ value, Σ value²), as either store's statement gives them."""
    variants, mixed = {}, 0
    for variant, *numbers in rows:
        if variant is None:
            mixed = int(numbers[0])
        else:
            variants[variant] = (int(numbers[0]), int(numbers[1]), *(float(n) for n in numbers[2:]))
    return {"variants": variants, "mixed": mixed}
