"""The query kinds in ClickHouse SQL, answering in the shapes the PostgreSQL modules' own SQL
does, so the same Python (queries/trends.py, funnels.py, retention.py, activity.py) turns them
into results. What differs from PostgreSQL, and how it is made the same:

- Properties are JSON text: a filter or breakdown reads them with JSONType/JSONExtract*, typed
  as PostgreSQL's jsonb compares them (a number equals a number, `true` only `true`, a text only
  a text; `ne` and `not_contains` also hold when the property is missing). Numbers compare as
  Float64 here (exact numeric in PostgreSQL): integers beyond 2^53 may compare unequal.
- Local time: `local(ts)` is the instant's wall-clock time in the tenant's time zone, as a
  DateTime in UTC (ts plus the zone's offset at that instant), so days, weeks (from Monday),
  months and "the period before" are computed on wall-clock time, as PostgreSQL's
  `timestamp AT TIME ZONE tz` does, across DST changes.
- Persons: each event's person is resolved when the query runs, from the latest row of its
  distinct id in `person_distinct_id` (argMax by version), so a merge made after the events counts.
- Funnels: one row per person who entered, their events in (timestamp, uuid-as-text) order with
  each one's step mask, exactly like the PostgreSQL query; the walk along them is the same Python.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection

from ..queries import common
from ..queries.experiments import EXPOSURE
from ..queries.retention import returns_end_of
from ..queries.shapes import Filter
from .chclient import client

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NUMERIC = "('Int64', 'UInt64', 'Double')"
INSTANT = "DateTime64(6, 'UTC')"
WALL = "DateTime('UTC')"
AGGREGATES = {
    "total": "count()",
    "unique_persons": "uniqExact(person_id)",
    "sum": "coalesce(sum(num), 0)",
    "avg": "avg(num)",
}


class Params:
    """Query parameters, named p0, p1, … in the order they are added."""

    def __init__(self):
        self.values: dict = {}

    def __call__(self, value, kind: str) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return "{" + f"{name}:{kind}" + "}"


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def wall(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def parse_wall(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def local(expr: str, tz: ZoneInfo, p: Params) -> str:
    """The wall-clock time of an instant in the time zone, as a DateTime in UTC."""
    zone = p(tz.key, "String")
    return f"addSeconds(toDateTime({expr}, 'UTC'), timeZoneOffset(toTimeZone({expr}, {zone})))"


def bucket(interval: str, wall_expr: str) -> str:
    if interval == "hour":
        return f"toStartOfHour({wall_expr})"
    if interval == "day":
        return f"toStartOfDay({wall_expr})"
    if interval == "week":
        return f"toDateTime(toMonday({wall_expr}), 'UTC')"
    return f"toDateTime(toStartOfMonth({wall_expr}), 'UTC')"


def shift(interval: str, wall_expr: str, n: int) -> str:
    """The wall-clock start of the period `n` periods away."""
    if interval == "hour":
        return f"addHours({wall_expr}, {n})"
    if interval == "day":
        return f"addDays({wall_expr}, {n})"
    if interval == "week":
        return f"addDays({wall_expr}, {7 * n})"
    return f"addMonths({wall_expr}, {n})"


# A static cohort travels as one array parameter. chDB 4.4 answered an array of 100,000 ids in
# 0.1 s here, and hung (over 2 minutes, then killed) on one of 200,000: past the limit, a query
# is refused with words rather than left hanging.
STATIC_COHORT_MAX = 100_000
TOO_MANY = (
    "This static cohort lists more than {limit:,} persons: too many to filter by for an organisation "
    "whose events are kept in ClickHouse. Use a rule-based cohort, or a smaller list."
)


def cohort_person_ids(cohort_id: int) -> list[int]:
    """From PostgreSQL (the record of cohorts and persons): the persons a static cohort lists,
    each by one of their distinct ids (a merged person once)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT m_pdi.person_id FROM analytics_cohortmember m JOIN analytics_persondistinctid m_pdi "
            "ON m_pdi.distinct_id = m.distinct_id WHERE m.cohort_id = %s",
            [cohort_id],
        )
        return [row[0] for row in cursor.fetchall()]


def cohort_sql(f, p: Params, db: str) -> str:
    """A cohort filter as a condition on the person `pdi.person_id` (properties `p.props`), as
    common.cohort_sql is on PostgreSQL. Static: the listed persons, resolved in PostgreSQL and
    passed as an array. By rules: the person filters hold, and for each behaviour the person (any
    of their distinct ids, as they resolve now) did the event at least min_count times since its
    `since`, counted on this store's events (an uncorrelated IN, run once per query)."""
    rule = f.cohort
    if rule is None:
        raise ValueError(f"cohort filter {f.value} was not read from the database (parse the query)")
    if rule.static:
        listed = cohort_person_ids(rule.id)
        if len(listed) > STATIC_COHORT_MAX:
            raise ValidationError({"query.filters": [TOO_MANY.format(limit=STATIC_COHORT_MAX)]})
        parts = [f"has({p(listed, 'Array(Int64)')}, pdi.person_id)"]
    else:
        parts = [filter_sql(person_filter, p, db) for person_filter in rule.filters]
        for b in rule.behaviours:
            parts.append(
                f"pdi.person_id IN (SELECT b_pdi.person_id FROM {events_with_persons(db, person=False, alias='b')} "
                f"WHERE b.event = {p(b.event, 'String')} AND b.timestamp >= {p(instant(b.since), INSTANT)} "
                f"GROUP BY b_pdi.person_id HAVING count() >= {p(b.min_count, 'UInt64')})"
            )
    sql = "(" + " AND ".join(parts or ["1"]) + ")"
    return sql if f.op == "in" else f"NOT {sql}"


def filter_sql(f, p: Params, db: str) -> str:
    if f.type == "cohort":
        return cohort_sql(f, p, db)
    col = "e.properties" if f.type == "event" else "p.props"
    key = p(f.key, "String")
    kind = f"JSONType({col}, {key})"
    if f.op in ("eq", "ne"):
        value = f.value
        if isinstance(value, bool):
            cond = f"({kind} = 'Bool' AND JSONExtractBool({col}, {key}) = {p(int(value), 'UInt8')})"
        elif isinstance(value, int | float):
            cond = f"({kind} IN {NUMERIC} AND JSONExtractFloat({col}, {key}) = {p(float(value), 'Float64')})"
        else:
            cond = f"({kind} = 'String' AND JSONExtractString({col}, {key}) = {p(value, 'String')})"
        return cond if f.op == "eq" else f"NOT {cond}"
    if f.op in ("contains", "not_contains"):
        cond = f"({kind} = 'String' AND position(JSONExtractString({col}, {key}), {p(f.value, 'String')}) > 0)"
        return cond if f.op == "contains" else f"NOT {cond}"
    if f.op in ("gt", "lt"):
        sign = ">" if f.op == "gt" else "<"
        return f"({kind} IN {NUMERIC} AND JSONExtractFloat({col}, {key}) {sign} {p(float(f.value), 'Float64')})"
    if f.op == "is_set":
        return f"JSONHas({col}, {key})"
    return f"NOT JSONHas({col}, {key})"


def where(filters, p: Params, db: str) -> str:
    return "".join(f" AND {filter_sql(f, p, db)}" for f in filters)


def property_text(f_type: str, key: str, p: Params) -> str:
    """A property as PostgreSQL's ->> gives it: a text as it is, null or missing as NULL, other
    JSON as written."""
    col = "e.properties" if f_type == "event" else "p.props"
    k = p(key, "String")
    kind = f"JSONType({col}, {k})"
    return (
        f"multiIf({kind} = 'String', JSONExtractString({col}, {k}), {kind} = 'Null', NULL, JSONExtractRaw({col}, {k}))"
    )


def needs_person(filters, breakdown=None) -> bool:
    """Whether the query reads the person's properties (a cohort filter may: its rules)."""
    return any(f.type in ("person", "cohort") for f in filters) or (
        breakdown is not None and breakdown.type == "person"
    )


def events_with_persons(db: str, *, person: bool, resolve: bool = True, alias: str = "") -> str:
    """`e` the events, `pdi.person_id` each one's person now, `p.props`/`p.puuid` the person's
    (with `person`). Without `resolve` (a count or sum that looks at no person) the events alone:
    every event has a person (the writer copies it in the same transaction), so the join would
    keep every row anyway."""
    e, pdi = (alias, f"{alias}_pdi") if alias else ("e", "pdi")  # another name for a subquery's
    if not resolve and not person:
        return f"`{db}`.events AS {e}"
    sql = (
        f"`{db}`.events AS {e} INNER JOIN (SELECT distinct_id, argMax(person_id, version) AS person_id "
        f"FROM `{db}`.person_distinct_id GROUP BY distinct_id) AS {pdi} ON {pdi}.distinct_id = {e}.distinct_id"
    )
    if person:
        sql += (
            " INNER JOIN (SELECT id, argMax(uuid, version) AS puuid, argMax(properties, version) AS props "
            f"FROM `{db}`.person GROUP BY id) AS p ON p.id = pdi.person_id"
        )
    return sql


def run(sql: str, p: Params) -> list[list]:
    return client().query(sql, p.values)


class _Kind:
    """One query kind's SQL over the tenant's database `db`."""

    def __init__(self, db: str):
        self.db = db

    @staticmethod
    def _start(query, tz) -> tuple[Params, datetime, datetime, list]:
        """Fresh parameters, the range's instants and the query's filters (with test accounts')."""
        start, end = common.bounds(query.range, tz)
        return Params(), start, end, common.filters_for(query.filters, query.exclude_test_accounts)


class Trends(_Kind):
    def _base(self, series, filters, rng, tz, p, breakdown, *, resolve: bool = False) -> str:
        start, end = common.bounds(rng, tz)
        source = events_with_persons(self.db, person=needs_person(filters, breakdown), resolve=resolve)
        return (
            f"FROM {source} WHERE e.event = {p(series.event, 'String')} "
            f"AND e.timestamp >= {p(instant(start), INSTANT)} AND e.timestamp < {p(instant(end), INSTANT)}"
            f"{where(filters, p, self.db)}"
        )

    def top_values(self, query, series, filters, tz) -> list:
        p = Params()
        value = property_text(query.breakdown.type, query.breakdown.property, p)
        base = self._base(series, filters, query.range, tz, p, query.breakdown)
        rows = run(
            f"SELECT v FROM (SELECT {value} AS v, count() AS n {base} GROUP BY v) "
            f"ORDER BY n DESC, v ASC NULLS FIRST LIMIT {p(query.breakdown.limit, 'UInt32')}",
            p,
        )
        return [row[0] for row in rows]

    def values(self, query, series, filters, rng, top, tz) -> dict:
        p = Params()
        if top is not None:
            value = property_text(query.breakdown.type, query.breakdown.property, p)
            listed = p([v for v in top if v is not None], "Array(String)")
            other = (
                f"NOT if(isNull({value}), {p(int(None in top), 'UInt8')} = 1, has({listed}, assumeNotNull({value})))"
            )
            columns = f", {other} AS other, if(other, NULL, {value}) AS v"
        else:
            columns = ", 0 AS other, CAST(NULL, 'Nullable(String)') AS v"
        if series.math in ("sum", "avg"):
            key = p(series.property, "String")
            number = f"if(JSONType(e.properties, {key}) IN {NUMERIC}, JSONExtractFloat(e.properties, {key}), NULL)"
        else:
            number = "CAST(NULL, 'Nullable(Float64)')"
        when = bucket(query.interval, local("e.timestamp", tz, p))
        unique = series.math == "unique_persons"
        base = self._base(series, filters, rng, tz, p, query.breakdown, resolve=unique)
        person_id = "pdi.person_id" if unique else "NULL"
        rows = run(
            f"SELECT toString(bucket), other, v, {AGGREGATES[series.math]} FROM ("
            f"SELECT {when} AS bucket, {number} AS num, {person_id} AS person_id{columns} {base}"
            ") GROUP BY bucket, other, v",
            p,
        )
        return {(parse_wall(b), (bool(other), None if other else v)): agg for b, other, v, agg in rows}


class Funnel(_Kind):
    def persons_events(self, query, *, tz) -> list[tuple]:
        """Rows as funnels.funnel_persons_events gives them."""
        p, start, end, filters = self._start(query, tz)
        window_end = end.astimezone(UTC) + timedelta(seconds=query.window_seconds)  # elapsed time, not wall clock
        masks = [
            f"if(e.event = {p(step.event, 'String')}{where(step.filters, p, self.db)}, {1 << i}, 0)"
            for i, step in enumerate(query.steps)
        ]
        names = ""
        if query.order != "strict":
            names = " AND e.event IN (" + ", ".join(p(s.event, "String") for s in query.steps) + ")"
        breakdown = "CAST(NULL, 'Nullable(String)')"
        if query.breakdown:
            breakdown = property_text(query.breakdown.type, query.breakdown.property, p)
        # The person's uuid is only shown on a persons page: otherwise the person's id names them.
        step_filters = [f for step in query.steps for f in step.filters]
        person = query.persons is not None or needs_person(filters + step_filters, query.breakdown)
        source = events_with_persons(self.db, person=person)
        uuid = "p.puuid" if person else "toString(pdi.person_id)"
        low, high = p(instant(start), INSTANT), p(instant(window_end), INSTANT)
        entry_end = p(int((end - EPOCH) / timedelta(microseconds=1)), "Int64")
        later_steps = (1 << len(query.steps)) - 2
        # Shipped per person: their events from the first entry on (no chain starts earlier), or
        # the first entry alone when no later event matches a step after the first (their
        # depth is 1 and that entry is their attempt): the Python walk gives the same answer.
        sql = f"""
            SELECT person_id, toString(puuid), arrayMap(x -> x.1, t), arrayMap(x -> x.3, t), arrayMap(x -> x.4, t)
            FROM (
                SELECT person_id, puuid,
                       arrayFirstIndex(x -> bitAnd(x.3, 1) = 1 AND x.1 < {entry_end}, s) AS first,
                       if(arrayExists((x, i) -> i > first AND bitAnd(x.3, {later_steps}) != 0, s, arrayEnumerate(s)),
                          arraySlice(s, first), [s[first]]) AS t
                FROM (
                SELECT person_id, any(puuid) AS puuid,
                       arraySort(x -> (x.1, x.2), groupArray((micros, eu, mask, bd))) AS s
                FROM (
                    SELECT pdi.person_id AS person_id, {uuid} AS puuid, e.timestamp AS ts,
                           toUnixTimestamp64Micro(e.timestamp) AS micros, toString(e.uuid) AS eu,
                           ({" + ".join(masks)}) AS mask, {breakdown} AS bd
                    FROM {source}
                    WHERE e.timestamp >= {low} AND e.timestamp < {high}
                    {names}{where(filters, p, self.db)}
                )
                WHERE mask != 0 OR {p(int(query.order == "strict"), "UInt8")} = 1
                GROUP BY person_id
                HAVING countIf(bitAnd(mask, 1) = 1 AND ts < {p(instant(end), INSTANT)}) > 0
                )
            )
            ORDER BY person_id
        """
        return [tuple(row) for row in run(sql, p)]


class Retention(_Kind):
    def rows(self, query, *, tz) -> list[tuple]:
        """(cohort, return period or None, persons) as retention.retention_rows gives them."""
        p, start, end, filters = self._start(query, tz)
        returns_end = returns_end_of(query).replace(tzinfo=tz)
        source = events_with_persons(self.db, person=needs_person(filters))
        when = bucket(query.period, local("e.timestamp", tz, p))
        if query.retention_type == "first_time":
            cohorts = (
                f"SELECT person_id, {bucket(query.period, local('first', tz, p))} AS cohort FROM ("
                f"SELECT pdi.person_id AS person_id, min(e.timestamp) AS first FROM {source} "
                f"WHERE e.event = {p(query.start_event, 'String')} AND e.timestamp < {p(instant(end), INSTANT)}"
                f"{where(filters, p, self.db)} GROUP BY person_id) WHERE first >= {p(instant(start), INSTANT)}"
            )
        else:
            cohorts = (
                f"SELECT DISTINCT pdi.person_id AS person_id, {when} AS cohort "
                f"FROM {source} WHERE e.event = {p(query.start_event, 'String')} "
                f"AND e.timestamp >= {p(instant(start), INSTANT)} AND e.timestamp < {p(instant(end), INSTANT)}"
                f"{where(filters, p, self.db)}"
            )
        returns = (
            f"SELECT pdi.person_id AS person_id, groupUniqArray({when}) AS bs "
            f"FROM {source} WHERE e.event = {p(query.return_event, 'String')} "
            f"AND e.timestamp >= {p(instant(start), INSTANT)} AND e.timestamp < {p(instant(returns_end), INSTANT)}"
            f"{where(filters, p, self.db)} GROUP BY person_id"
        )
        rows = run(
            "SELECT toString(cohort), b, count() FROM ("
            "SELECT c.cohort AS cohort, arrayJoin(arrayPushFront("
            "arrayMap(x -> toNullable(toString(x)), arrayFilter(x -> x > c.cohort, r.bs)), NULL)) AS b "
            f"FROM ({cohorts}) AS c LEFT JOIN ({returns}) AS r ON r.person_id = c.person_id"
            ") GROUP BY cohort, b",
            p,
        )
        return [(parse_wall(c), parse_wall(b), n) for c, b, n in rows]


class Activity(_Kind):
    def _source(self, query, tz, p, *, since: bool) -> tuple[str, str]:
        start, end = common.bounds(query.range, tz)
        filters = common.filters_for(query.filters, query.exclude_test_accounts)
        lower = f" AND e.timestamp >= {p(instant(start), INSTANT)}" if since else ""
        when = bucket(query.interval, local("e.timestamp", tz, p))
        sql = (
            f"FROM {events_with_persons(self.db, person=needs_person(filters))} "
            f"WHERE e.event = {p(query.event, 'String')} AND e.timestamp < {p(instant(end), INSTANT)}{lower}"
            f"{where(filters, p, self.db)} GROUP BY person_id"
        )
        return when, sql

    def stickiness_rows(self, query, *, tz) -> list[tuple]:
        p = Params()
        when, source = self._source(query, tz, p, since=True)
        rows = run(
            f"SELECT n, count() FROM (SELECT pdi.person_id AS person_id, uniqExact({when}) AS n {source}) GROUP BY n",
            p,
        )
        return [tuple(row) for row in rows]

    def lifecycle_rows(self, query, *, tz) -> list[tuple]:
        p = Params()
        buckets = common.buckets(query.range, query.interval)
        when, source = self._source(query, tz, p, since=False)
        first, last = p(wall(buckets[0]), WALL), p(wall(buckets[-1]), WALL)
        before, after = shift(query.interval, "b", -1), shift(query.interval, "b", 1)
        rows = run(
            f"""
            SELECT toString(t.1), t.2, count() FROM (
                SELECT arrayJoin(arrayConcat(
                    arrayMap(b -> (b, if(b = arrayMin(bs), 'new', if(has(bs, {before}), 'returning', 'resurrecting'))),
                             arrayFilter(b -> b >= {first}, bs)),
                    arrayMap(b -> ({after}, 'dormant'),
                             arrayFilter(b -> NOT has(bs, {after}) AND {after} >= {first} AND {after} <= {last}, bs))
                )) AS t
                FROM (SELECT pdi.person_id AS person_id, groupUniqArray({when}) AS bs {source})
            ) GROUP BY t.1, t.2
            """,
            p,
        )
        return [(parse_wall(b), status, n) for b, status, n in rows]


class Paths(_Kind):
    def counted(self, query, *, tz) -> list[tuple[list[str], int]]:
        """[(path, sessions that took it)] as paths.paths_counted gives them. Per person: their
        kept events sorted by (time, uuid as text), split into sessions before each event more
        than the session window after the previous one (arraySplit over arrayDifference: one
        pass), then per session the anchor (its first start event, or its last end event) and
        the events from it outwards, up to `steps`."""
        p, start, end, filters = self._start(query, tz)
        backwards = query.start_event is None
        anchor = p(query.end_event if backwards else query.start_event, "String")
        steps = p(query.steps, "UInt32")
        if backwards:
            # the events up to the session's last anchor, newest first
            path = (
                f"arrayReverse(arraySlice(names, greatest(1, toInt64(a) - {steps} + 1), "
                f"least(toInt64(a), toInt64({steps}))))"
            )
            found = f"arrayLastIndex(x -> x = {anchor}, names)"
        else:
            path = f"arraySlice(names, a, {steps})"
            found = f"indexOf(names, {anchor})"
        gap = p(query.session_seconds * 1_000_000, "Int64")
        source = events_with_persons(self.db, person=needs_person(filters))
        sql = f"""
            SELECT path, count() FROM (
                SELECT {path} AS path FROM (
                    SELECT names, {found} AS a FROM (
                        SELECT arraySplit((n, d) -> d > {gap}, s.3, arrayDifference(s.1)) AS all_names
                        FROM (
                            SELECT arraySort(x -> (x.1, x.2), groupArray((micros, eu, event))) AS s
                            FROM (
                                SELECT pdi.person_id AS person_id, toUnixTimestamp64Micro(e.timestamp) AS micros,
                                       toString(e.uuid) AS eu, toString(e.event) AS event
                                FROM {source}
                                WHERE e.timestamp >= {p(instant(start), INSTANT)}
                                  AND e.timestamp < {p(instant(end), INSTANT)}
                                  AND NOT has({p(list(query.exclude_events), "Array(String)")}, e.event)
                                  {where(filters, p, self.db)}
                            )
                            GROUP BY person_id
                        )
                    ) ARRAY JOIN all_names AS names
                    WHERE a > 0
                )
            ) GROUP BY path
        """
        return [(list(path), n) for path, n in run(sql, p)]


def cohort_members(db: str, rule) -> list[int]:
    """The persons (ids) in a cohort now, by this store's copy of persons and its events: what
    the cohort's members page lists for a tenant whose events are here."""
    p = Params()
    condition = cohort_sql(Filter("cohort", "", "in", rule.id, cohort=rule), p, db)
    rows = run(
        f"SELECT DISTINCT pdi.person_id FROM (SELECT distinct_id, argMax(person_id, version) AS person_id "
        f"FROM `{db}`.person_distinct_id GROUP BY distinct_id) AS pdi INNER JOIN (SELECT id, "
        f"argMax(properties, version) AS props FROM `{db}`.person GROUP BY id) AS p ON p.id = pdi.person_id "
        f"WHERE {condition}",
        p,
    )
    return [row[0] for row in rows]


def experiment_outcomes(
    db: str, *, flag_key: str, goal_event: str, prop: str, start, end, goal_filters=(), unit="person"
) -> list:
    """queries/experiments.py's rows, from this store's events: the units exposed to the flag
    (persons, or organisations by the events' `$groups`; the first exposure's variant, by time
    then uuid as text; how many variants they were served), and per unit its goal events at or
    after it, inside the window."""
    p = Params()
    if unit == "person":
        unit_of, source, known = "pdi.person_id", events_with_persons(db, person=False), "1"
    else:
        unit_of, source = "JSONExtractString(e.properties, '$groups', 'organisation')", f"`{db}`.events AS e"
        known = f"{unit_of} != ''"
    response = "JSONExtractString(e.properties, '$feature_flag_response')"
    key = p(prop, "String")
    value = f"if(JSONType(e.properties, {key}) IN {NUMERIC}, JSONExtractFloat(e.properties, {key}), 0)"
    end_at = p(instant(end), INSTANT)
    sql = f"""
        WITH exposed AS (
            SELECT {unit_of} AS unit, min(e.timestamp) AS first_at,
                   argMin({response}, (e.timestamp, toString(e.uuid))) AS variant, uniqExact({response}) AS served
            FROM {source}
            WHERE e.event = {p(EXPOSURE, "String")}
              AND JSONExtractString(e.properties, '$feature_flag') = {p(flag_key, "String")}
              AND e.timestamp >= {p(instant(start), INSTANT)} AND e.timestamp < {end_at} AND {known}
            GROUP BY unit
        ), goals AS (
            SELECT {unit_of} AS unit, toFloat64(count()) AS n, sum({value}) AS value
            FROM {source} INNER JOIN exposed AS x ON x.unit = {unit_of}
            WHERE x.served = 1 AND e.event = {p(goal_event, "String")} AND e.timestamp >= x.first_at
              AND e.timestamp < {end_at}{where(goal_filters, p, db)}
            GROUP BY unit
        )
        SELECT if(x.served = 1, x.variant, NULL) AS v, count(), countIf(g.n > 0),
               sum(g.n), sum(g.n * g.n), sum(g.value), sum(g.value * g.value)
        FROM exposed AS x LEFT JOIN goals AS g ON g.unit = x.unit
        GROUP BY v
    """
    return run(sql, p)
