"""Trends: an aggregate of events per hour/day/week/month, in the tenant's time zone."""

from zoneinfo import ZoneInfo

from . import common
from .shapes import Range, Series, TrendsQuery

AGGREGATES = {
    "total": "count(*)",
    "unique_persons": "count(DISTINCT person_id)",
    "sum": "coalesce(sum(num), 0)",
    "avg": "avg(num)",
}
NUMBER = "CASE WHEN jsonb_typeof(e.properties -> %s) = 'number' THEN (e.properties ->> %s)::numeric END"


def trends(query: TrendsQuery, *, tz: ZoneInfo, top_values=None, values=None) -> dict:
    """{"labels": [...], "series": [{"event", "math", "breakdown_value", "values", "previous"}]}.

    `top_values` and `values` fetch the numbers (default: this module's SQL over PostgreSQL; the
    ClickHouse store passes its own, same signatures and answers)."""
    _top_values_of = top_values or _top_values
    _values_of = values or _values
    labels = common.buckets(query.range, query.interval)
    out = []
    for series in query.series:
        filters = common.filters_for(query.filters, query.exclude_test_accounts) + list(series.filters)
        top = _top_values_of(query, series, filters, tz) if query.breakdown else None
        rows = _values_of(query, series, filters, query.range, top, tz)
        previous = None
        if query.compare:
            previous = _values_of(query, series, filters, query.range.previous(), top, tz)
        keys = [(False, v) for v in top] + [(True, None)] if top is not None else [(False, None)]
        for key in keys:
            if top is not None and key[0] and not any(k[1] == (True, None) for k in rows):
                continue  # no "other" when every value is among the top
            item = {
                "event": series.event,
                "math": series.math,
                "values": [_value(rows.get((b, key)), series.math) for b in labels],
            }
            if top is not None:
                item["breakdown_value"] = "$other" if key[0] else key[1]
            if previous is not None:
                prev_labels = common.buckets(query.range.previous(), query.interval)
                item["previous"] = {
                    "labels": [common.label(b, query.interval) for b in prev_labels],
                    "values": [_value(previous.get((b, key)), series.math) for b in prev_labels],
                }
            out.append(item)
    return {"labels": [common.label(b, query.interval) for b in labels], "series": out}


def _value(value, math: str):
    if value is None:
        return None if math == "avg" else 0
    return common.number(value)


def _base(series: Series, filters, rng: Range, tz: ZoneInfo) -> tuple[str, list]:
    start, end = common.bounds(rng, tz)
    extra, params = common.where(filters)
    sql = f'FROM {common.EVENTS_WITH_PERSONS} WHERE e.event = %s AND e."timestamp" >= %s AND e."timestamp" < %s{extra}'
    return sql, [series.event, start, end, *params]


def _top_values(query: TrendsQuery, series: Series, filters, tz: ZoneInfo) -> list:
    """The breakdown's values with the most events in the range (ties: by value)."""
    base, params = _base(series, filters, query.range, tz)
    value = common.property_text(query.breakdown.type)
    rows = common.fetch(
        f"SELECT v FROM (SELECT {value} AS v, count(*) AS n {base} GROUP BY 1) AS counted "
        'ORDER BY n DESC, v COLLATE "C" NULLS FIRST LIMIT %s',
        [query.breakdown.property, *params, query.breakdown.limit],
    )
    return [row[0] for row in rows]


def _values(query: TrendsQuery, series: Series, filters, rng: Range, top, tz: ZoneInfo) -> dict:
    """{(bucket, (is_other, breakdown value)): aggregate}."""
    base, params = _base(series, filters, rng, tz)
    columns, column_params = "", []
    if top is not None:
        value = common.property_text(query.breakdown.type)
        listed = [v for v in top if v is not None]
        other = f"NOT CASE WHEN {value} IS NULL THEN %s ELSE {value} = ANY(%s::text[]) END"
        columns = f", {other} AS other, CASE WHEN {other} THEN NULL ELSE {value} END AS v"
        key = query.breakdown.property
        column_params = [key, None in top, key, listed] * 2 + [key]
    else:
        columns = ", false AS other, NULL::text AS v"
    number = NUMBER if series.math in ("sum", "avg") else "NULL::numeric"
    number_params = [series.property, series.property] if series.math in ("sum", "avg") else []
    sql = (
        f"SELECT bucket, other, v, {AGGREGATES[series.math]} FROM ("
        f'SELECT date_trunc(%s, e."timestamp" AT TIME ZONE %s) AS bucket, {number} AS num, pdi.person_id{columns} '
        f"{base}) AS picked GROUP BY 1, 2, 3"
    )
    rows = common.fetch(sql, [query.interval, tz.key, *number_params, *column_params, *params])
    return {(bucket, (other, None if other else v)): agg for bucket, other, v, agg in rows}
