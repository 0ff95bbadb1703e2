"""An experiment's outcomes per variant, from the PostgreSQL event store (the ClickHouse store
answers the same from its own SQL: stores/chqueries.py).

A person is exposed when a `$feature_flag_called` event of the flag was captured for any of
their distinct ids inside the window; their variant is the response of their first exposure,
and persons who were served more than one variant are left out (counted apart). For a flag
bucketed by organisation the unit is the organisation instead (the events' `$groups`), with its
goal events those sent with it. The goal is reached by the goal event (only those matching the
metric's event-property filters, if any) at or after the person's first exposure, inside the
window: an ordered two-step funnel (exposure → goal). Each person's goal events are counted and
the goal's numeric property summed, so the caller gets sufficient statistics per variant:

    (variant, exposed, converted, Σ count, Σ count², Σ value, Σ value²)
"""

from datetime import datetime

from . import common

EXPOSURE = "$feature_flag_called"


# What an experiment counts: persons (their distinct ids merged), or organisations for a flag
# bucketed by organisation (the key in the events' `$groups`, as PostHog's SDKs and the evaluate
# endpoint send it). Each: the unit of an event `e`, and where such events come from.
UNITS = {
    "person": (
        "pdi.person_id",
        "analytics_event e JOIN analytics_persondistinctid pdi ON pdi.distinct_id = e.distinct_id",
    ),
    "organisation": ("(e.properties -> '$groups' ->> 'organisation')", "analytics_event e"),
}


def outcomes(
    *, flag_key: str, goal_event: str, prop: str, start: datetime, end: datetime, goal_filters=(), unit="person"
) -> dict:
    """{"variants": {variant: (exposed, converted, n, n², value, value²)}, "mixed": units served
    several variants}. `goal_filters`: event filters (shapes.Filter) the goal events meet;
    `unit`: one of UNITS."""
    extra, extra_params = common.where(goal_filters)
    unit_of, source = UNITS[unit]
    sql = f"""
        WITH exposed AS (
            SELECT {unit_of} AS unit, min(e."timestamp") AS first_at,
                   (array_agg(e.properties ->> '$feature_flag_response' ORDER BY e."timestamp", e.uuid))[1] AS variant,
                   count(DISTINCT e.properties ->> '$feature_flag_response') AS served
            FROM {source}
            WHERE e.event = %s AND e.properties ->> '$feature_flag' = %s
              AND e."timestamp" >= %s AND e."timestamp" < %s AND {unit_of} IS NOT NULL
            GROUP BY 1
        ), goals AS (
            SELECT x.unit, count(*)::float8 AS n,
                   sum(CASE WHEN jsonb_typeof(e.properties -> %s) = 'number'
                            THEN (e.properties ->> %s)::float8 ELSE 0 END) AS value
            FROM {source} JOIN exposed x ON x.unit = {unit_of}
            WHERE x.served = 1 AND e.event = %s AND e."timestamp" >= x.first_at AND e."timestamp" < %s{extra}
            GROUP BY x.unit
        )
        SELECT CASE WHEN x.served = 1 THEN x.variant END, count(*), count(g.unit),
               coalesce(sum(g.n), 0), coalesce(sum(g.n * g.n), 0),
               coalesce(sum(g.value), 0), coalesce(sum(g.value * g.value), 0)
        FROM exposed x LEFT JOIN goals g ON g.unit = x.unit
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
