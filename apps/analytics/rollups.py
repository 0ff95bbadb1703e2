"""Rollups: aggregates of the event table, kept current by the writer, so the common insights
never scan raw events (docs/apps/analytics.md#rollups).

The tables (in the tenant's schema, made on first need like the event table: see storage.py)
--------------------------------------------------------------------------------------------
- `analytics_rollup_hourly` (event, hour, events): events per name and UTC hour. Any time zone
  whose offset is a whole number of hours over the range maps each UTC hour into one local hour,
  so it answers total counts by hour, day, week and month in any such zone.
- `analytics_rollup_daily_persons` (event, day, person_id): who did each event on each day, the
  day in the rollups' time zone (the tenant's, kept in `analytics_rollup_state`). It answers
  unique persons by week and month (count distinct over its rows).
- `analytics_rollup_daily_uniques` (event, day, persons): the row count of the table above per
  (event, day), kept with it, so daily unique persons read 30 rows for 30 days.
- `analytics_rollup_first_days` (event, person_id, day): each person's first day of each event
  (first-time retention's cohorts).
- `analytics_rollup_period_persons` (event, period, start, person_id): who did each event in each
  week ('w', from Monday) and month ('m') of the rollups' time zone (unique persons over whole
  weeks and months).
- `analytics_rollup_period_bits` (event, period, block, person_id, bits): the same as one bitmap
  a person and 64 periods (bit i: period 64 * block + i, storage.period_number), so weekly and
  monthly retention read one row a person (~100,000 for the 10M benchmark's `$pageview`) where
  the table above has one a person and week (~880,000).

Kept current
------------
The writer adds the events it has just stored (`fresh_apply`), in the transaction that stores
them and after their persons are made and merged: exactly once, since an event re-sent (same
uuid) is not stored again, so a retried or re-run batch adds nothing. Late events simply add to
their past hour and day. A merge of person B into A (identify, alias) moves B's rows to A in the
same transaction (`person_merged`): a day both did the event counts one person less from then on.
`rollups_rebuild` makes them again from the event table (the `analytics_rollups_rebuild` command;
the periodic upkeep runs it when the rollups were never built or the tenant's time zone changed).

What they do not answer (the query runs on raw events, `"source": "raw"`)
-------------------------------------------------------------------------
Trends with filters, test-account exclusion, a breakdown or sum/avg; unique persons by hour, or
in a time zone other than the rollups'; total counts in a zone with a non-whole-hour offset (India,
Nepal, Newfoundland, South Australia…); funnels, stickiness, lifecycle; retention with filters or
not in the rollups' zone (first-time and recurring retention without filters are served from
first_days, daily_persons and period_bits).
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from . import storage
from .queries import common
from .storage import (
    DAILY_PERSONS,
    DAILY_UNIQUES,
    FIRST_DAYS,
    FRESH,
    HOURLY,
    PERIOD_BITS,
    PERIOD_PERSONS,
    STATE,
    period_bits_of,
    rollup_state,
    rollup_tables_ensure,
    tenant_time_zone,
)

__all__ = ["fresh_apply", "person_merged", "rollup_state", "rollups_rebuild", "tenant_time_zone"]


# --- Kept current by the writer ------------------------------------------------------------------


def fresh_apply() -> None:
    """Adds the events stored by this transaction (storage.rows_write keeps them in a temp table)
    to the rollups, their distinct ids resolved to persons as they are now; then forgets them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"pg_temp.{FRESH}"])
        if not cursor.fetchone()[0]:
            return
        if storage.rollup_tables_upgraded():
            q = storage.qualified
            cursor.execute(
                f"""
                WITH f AS (
                    SELECT f."timestamp", f.event, pdi.person_id FROM pg_temp.{FRESH} f
                    JOIN {q("analytics_persondistinctid")} pdi ON pdi.distinct_id = f.distinct_id
                ), hours AS (
                    INSERT INTO {q(HOURLY)} AS h (event, hour, events)
                    SELECT event, date_trunc('hour', "timestamp", 'UTC'), count(*) FROM f GROUP BY 1, 2 ORDER BY 1, 2
                    ON CONFLICT (event, hour) DO UPDATE SET events = h.events + excluded.events
                ), firsts AS (
                    INSERT INTO {q(FIRST_DAYS)} AS d (event, person_id, day)
                    SELECT event, person_id, min(("timestamp" AT TIME ZONE (SELECT time_zone FROM {q(STATE)}))::date)
                    FROM f GROUP BY 1, 2 ORDER BY 1, 2
                    ON CONFLICT (event, person_id) DO UPDATE SET day = excluded.day WHERE excluded.day < d.day
                ), fp AS (
                    SELECT DISTINCT event, k.period, person_id,
                           date_trunc(k.unit, "timestamp" AT TIME ZONE (SELECT time_zone FROM {q(STATE)}))::date
                           AS start
                    FROM f CROSS JOIN (VALUES ('w', 'week'), ('m', 'month')) AS k (period, unit)
                ), periods AS (
                    INSERT INTO {q(PERIOD_PERSONS)} (event, period, start, person_id)
                    SELECT event, period, start, person_id FROM fp ORDER BY 1, 2, 3, 4
                    ON CONFLICT DO NOTHING
                ), bits AS (
                    INSERT INTO {q(PERIOD_BITS)} AS b (event, period, block, person_id, bits) {period_bits_of("fp")}
                    ON CONFLICT (event, period, block, person_id) DO UPDATE SET bits = b.bits | excluded.bits
                ), pairs AS (
                    INSERT INTO {q(DAILY_PERSONS)} (event, day, person_id)
                    SELECT DISTINCT event, ("timestamp" AT TIME ZONE (SELECT time_zone FROM {q(STATE)}))::date,
                           person_id
                    FROM f ORDER BY 1, 2, 3
                    ON CONFLICT DO NOTHING
                    RETURNING event, day
                )
                INSERT INTO {q(DAILY_UNIQUES)} AS u (event, day, persons)
                SELECT event, day, count(*) FROM pairs GROUP BY 1, 2 ORDER BY 1, 2
                ON CONFLICT (event, day) DO UPDATE SET persons = u.persons + excluded.persons
                """
            )
        cursor.execute(f"DELETE FROM pg_temp.{FRESH}")


def person_merged(*, into: int, gone: int) -> None:
    """Person `gone` became part of person `into`: its daily rows become `into`'s; a day both did
    an event now counts one person."""
    if not storage.rollup_tables_upgraded():
        return
    q = storage.qualified
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH gone AS (
                DELETE FROM {q(DAILY_PERSONS)} WHERE person_id = %s RETURNING event, day
            ), moved AS (
                INSERT INTO {q(DAILY_PERSONS)} (event, day, person_id) SELECT event, day, %s FROM gone
                ON CONFLICT DO NOTHING RETURNING event, day
            ), doubled AS (
                SELECT event, day FROM gone EXCEPT SELECT event, day FROM moved
            )
            UPDATE {q(DAILY_UNIQUES)} u SET persons = u.persons - 1
            FROM doubled d WHERE u.event = d.event AND u.day = d.day
            """,
            [gone, into],
        )
        cursor.execute(
            f"""
            WITH gone AS (DELETE FROM {q(FIRST_DAYS)} WHERE person_id = %s RETURNING event, day)
            INSERT INTO {q(FIRST_DAYS)} AS d (event, person_id, day) SELECT event, %s, day FROM gone
            ON CONFLICT (event, person_id) DO UPDATE SET day = excluded.day WHERE excluded.day < d.day
            """,
            [gone, into],
        )
        cursor.execute(
            f"""
            WITH gone AS (DELETE FROM {q(PERIOD_PERSONS)} WHERE person_id = %s RETURNING event, period, start)
            INSERT INTO {q(PERIOD_PERSONS)} (event, period, start, person_id) SELECT event, period, start, %s FROM gone
            ON CONFLICT DO NOTHING
            """,
            [gone, into],
        )
        cursor.execute(
            f"""
            WITH gone AS (DELETE FROM {q(PERIOD_BITS)} WHERE person_id = %s RETURNING event, period, block, bits)
            INSERT INTO {q(PERIOD_BITS)} AS b (event, period, block, person_id, bits)
            SELECT event, period, block, %s, bits FROM gone
            ON CONFLICT (event, period, block, person_id) DO UPDATE SET bits = b.bits | excluded.bits
            """,
            [gone, into],
        )


# --- Made again from the event table -------------------------------------------------------------


def rollups_rebuild(*, progress=None, time_zone: str | None = None) -> int:
    """Makes the current tenant's rollups again from its events, in the tenant's time zone (or
    `time_zone`), one local day at a time (`progress`: apps.tenancy.backup.progress.Progress, or
    None). Writers
    wait meanwhile (they add their events after); queries read the old rollups until the commit.
    Returns the events counted. Run it in a transaction (the command does)."""
    storage.event_table_ensure()
    rollup_tables_ensure(built=False)
    q = storage.qualified
    zone = time_zone or tenant_time_zone()
    tz = ZoneInfo(zone)
    with connection.cursor() as cursor:
        tables = (HOURLY, DAILY_PERSONS, DAILY_UNIQUES, FIRST_DAYS, PERIOD_PERSONS, PERIOD_BITS)
        cursor.execute("SELECT set_config('work_mem', '256MB', true)")  # its GROUP BYs and DISTINCTs in memory
        cursor.execute(f"LOCK TABLE {', '.join(q(t) for t in tables)}, {q(STATE)} IN EXCLUSIVE MODE")
        for table in tables:
            cursor.execute(f"DELETE FROM {q(table)}")
        cursor.execute(f"UPDATE {q(STATE)} SET time_zone = %s", [zone])
        cursor.execute(f'SELECT min("timestamp"), max("timestamp") FROM {q(storage.TABLE)}')
        first, last = cursor.fetchone()
        days = []
        if first is not None:
            day = first.astimezone(tz).date()
            while day <= last.astimezone(tz).date():
                days.append(day)
                day += timedelta(days=1)
        if progress is not None:
            progress.start("days", len(days))
        counted = 0
        for day in days:
            counted += _day_build(cursor, day, tz)
            if progress is not None:
                progress.advance(1)
        cursor.execute(
            f"INSERT INTO {q(DAILY_UNIQUES)} (event, day, persons) "
            f"SELECT event, day, count(*) FROM {q(DAILY_PERSONS)} GROUP BY 1, 2"
        )
        cursor.execute(
            f"INSERT INTO {q(FIRST_DAYS)} (event, person_id, day) "
            f"SELECT event, person_id, min(day) FROM {q(DAILY_PERSONS)} GROUP BY 1, 2"
        )
        cursor.execute(
            f"INSERT INTO {q(PERIOD_PERSONS)} (event, period, start, person_id) "
            "SELECT DISTINCT event, k.period, date_trunc(k.unit, day::timestamp)::date, person_id "
            f"FROM {q(DAILY_PERSONS)} CROSS JOIN (VALUES ('w', 'week'), ('m', 'month')) AS k (period, unit)"
        )
        cursor.execute(f"INSERT INTO {q(PERIOD_BITS)} (event, period, block, person_id, bits) "
                       f"{period_bits_of(q(PERIOD_PERSONS))}")  # fmt: skip
        cursor.execute(f"UPDATE {q(STATE)} SET built_at = now()")
        for table in tables:
            cursor.execute(f"ANALYZE {q(table)}")
    if progress is not None:
        progress.finish(f"{counted:,} events in {len(days)} days")
    return counted


def tables_vacuum() -> None:
    """VACUUM (ANALYZE) of the rollup tables, outside any transaction: after a rebuild, their
    visibility maps let the queries use index-only scans (autovacuum does it later otherwise)."""
    with connection.cursor() as cursor:
        for table in (HOURLY, DAILY_PERSONS, DAILY_UNIQUES, FIRST_DAYS, PERIOD_PERSONS, PERIOD_BITS):
            cursor.execute(f"VACUUM (ANALYZE) {storage.qualified(table)}")


def _day_build(cursor, day: date, tz: ZoneInfo) -> int:
    q = storage.qualified
    start, end = common.local_midnight(day, tz), common.local_midnight(day + timedelta(days=1), tz)
    # A local day of a zone with a half-hour offset splits a UTC hour in two: hence the addition.
    cursor.execute(
        f"""
        INSERT INTO {q(HOURLY)} AS h (event, hour, events)
        SELECT event, date_trunc('hour', "timestamp", 'UTC'), count(*) FROM {q(storage.TABLE)}
        WHERE "timestamp" >= %s AND "timestamp" < %s GROUP BY 1, 2
        ON CONFLICT (event, hour) DO UPDATE SET events = h.events + excluded.events
        RETURNING events
        """,
        [start, end],
    )
    added = sum(row[0] for row in cursor.fetchall())
    cursor.execute(
        f"""
        INSERT INTO {q(DAILY_PERSONS)} (event, day, person_id)
        SELECT DISTINCT e.event, %s::date, pdi.person_id FROM {q(storage.TABLE)} e
        JOIN {q("analytics_persondistinctid")} pdi ON pdi.distinct_id = e.distinct_id
        WHERE e."timestamp" >= %s AND e."timestamp" < %s
        """,
        [day, start, end],
    )
    return added
