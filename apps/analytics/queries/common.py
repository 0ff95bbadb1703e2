"""What every query kind shares: the time range in the tenant's time zone, filters as SQL.

Every statement runs in the tenant's schema (django-tenants' search_path) and takes user input
only as psycopg parameters (%s), never formatted into the SQL text.
"""

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from .. import conf
from .shapes import Filter, Range, filters_parse

# Events joined to their person (every stored event has one: the writer makes it in the same
# transaction). `e` is the event, `pdi.person_id` its person, `p.properties` the person's.
EVENTS_WITH_DISTINCT_IDS = "analytics_event e JOIN analytics_persondistinctid pdi ON pdi.distinct_id = e.distinct_id"
EVENTS_WITH_PERSONS = EVENTS_WITH_DISTINCT_IDS + " JOIN analytics_person p ON p.id = pdi.person_id"


def bounds(rng: Range, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants the range covers: from the start of date_from to the start of the day after
    date_to, in the time zone."""
    return local_midnight(rng.date_from, tz), local_midnight(rng.date_to + timedelta(days=1), tz)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def bucket_start(moment: datetime, interval: str) -> datetime:
    """The local (naive) start of the hour/day/week (Monday)/month holding `moment` (naive)."""
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def bucket_next(start: datetime, interval: str) -> datetime:
    if interval == "hour":
        return start + timedelta(hours=1)
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def buckets(rng: Range, interval: str) -> list[datetime]:
    """Every bucket's local start from date_from's to date_to's."""
    first = bucket_start(datetime.combine(rng.date_from, time()), interval)
    end = datetime.combine(rng.date_to + timedelta(days=1), time())
    out = []
    while first < end:
        out.append(first)
        first = bucket_next(first, interval)
    return out


def label(start: datetime, interval: str) -> str:
    return start.strftime("%Y-%m-%dT%H:00") if interval == "hour" else start.date().isoformat()


def number(value) -> int | float | None:
    """A sum or mean as JSON: whole numbers as int, others rounded to 6 places."""
    if value is None:
        return None
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return float(round(value, 6))


def filters_for(query_filters, exclude_test_accounts: bool) -> list[Filter]:
    """The query's filters, plus the test-account rule when asked."""
    out = list(query_filters)
    if exclude_test_accounts:
        out += filters_parse(conf.get("HUB_ANALYTICS_TEST_ACCOUNT_FILTERS"), "HUB_ANALYTICS_TEST_ACCOUNT_FILTERS")
    return out


def cohort_sql(f: Filter) -> tuple[str, list]:
    """A cohort filter as a condition on the person `pdi.person_id` (whose properties are
    `p.properties`). Static: one of the person's distinct ids is listed. By rules: the person
    filters hold, and for each behaviour the person (any of their distinct ids) did the event at
    least min_count times since its `since`. Each part is an uncorrelated IN (…), which
    PostgreSQL runs once per query (a hashed subplan), not once per event."""
    rule = f.cohort
    if rule is None:
        raise ValueError(f"cohort filter {f.value} was not read from the database (parse the query)")
    if rule.static:
        parts = [
            "pdi.person_id IN (SELECT m_pdi.person_id FROM analytics_cohortmember m "
            "JOIN analytics_persondistinctid m_pdi ON m_pdi.distinct_id = m.distinct_id WHERE m.cohort_id = %s)"
        ]
        params = [rule.id]
    else:
        parts, params = [], []
        for person_filter in rule.filters:
            part, part_params = filter_sql(person_filter)
            parts.append(part)
            params += part_params
        for b in rule.behaviours:
            parts.append(
                "pdi.person_id IN (SELECT b_pdi.person_id FROM analytics_event b "
                "JOIN analytics_persondistinctid b_pdi ON b_pdi.distinct_id = b.distinct_id "
                'WHERE b.event = %s AND b."timestamp" >= %s GROUP BY 1 HAVING count(*) >= %s)'
            )
            params += [b.event, b.since, b.min_count]
    sql = "(" + " AND ".join(parts or ["true"]) + ")"
    return (sql, params) if f.op == "in" else (f"({sql} IS NOT TRUE)", params)


def filter_sql(f: Filter) -> tuple[str, list]:
    """One filter as a SQL condition on `e.properties` or `p.properties` (or, for a cohort, on
    the person), with its parameters."""
    if f.type == "cohort":
        return cohort_sql(f)
    col = "e.properties" if f.type == "event" else "p.properties"
    if f.op in ("eq", "ne"):
        sql = f"({col} -> %s = %s::jsonb)"
        params = [f.key, json.dumps(f.value)]
        return (sql, params) if f.op == "eq" else (f"{sql} IS NOT TRUE", params)
    if f.op in ("contains", "not_contains"):
        sql = f"(jsonb_typeof({col} -> %s) = 'string' AND strpos({col} ->> %s, %s) > 0)"
        params = [f.key, f.key, f.value]
        return (sql, params) if f.op == "contains" else (f"{sql} IS NOT TRUE", params)
    if f.op in ("gt", "lt"):
        sign = ">" if f.op == "gt" else "<"
        # CASE keeps the cast from running on a property that is not a number.
        sql = f"(CASE WHEN jsonb_typeof({col} -> %s) = 'number' THEN ({col} ->> %s)::numeric {sign} %s END IS TRUE)"
        return sql, [f.key, f.key, Decimal(repr(f.value)) if isinstance(f.value, float) else f.value]
    if f.op == "is_set":
        return f"({col} ? %s)", [f.key]
    return f"(NOT {col} ? %s)", [f.key]


def where(filters) -> tuple[str, list]:
    """ANDed filters: ' AND …' to append to a WHERE clause, and the parameters."""
    sql, params = "", []
    for f in filters:
        part, part_params = filter_sql(f)
        sql += " AND " + part
        params += part_params
    return sql, params


def property_text(f_type: str) -> str:
    """A property (its key a parameter) as text: strings as they are, other JSON as written."""
    return ("e" if f_type == "event" else "p") + ".properties ->> %s"


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


WORK_MEM = "64MB"


def fetch_big(sql: str, params: list) -> list[tuple]:
    """fetch() for a statement that sorts or hashes hundreds of thousands of rows on a big tenant
    (funnels, retention): with work_mem raised to WORK_MEM for it alone, so they stay in memory,
    and without JIT compilation (which its cost estimate turns on: 20–70 ms of compiling, more
    than it saved on these statements here)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [WORK_MEM])
        cursor.execute(sql, params)
        return cursor.fetchall()
