"""The event table: partitioned by month, written in batches with COPY.

The table
---------
`analytics_event` is PARTITION BY RANGE ("timestamp"), one partition per calendar month (UTC)
named `analytics_event_pYYYY_MM`, plus a DEFAULT partition, so an event is never refused for
want of a partition. Its primary key is ("timestamp", uuid): PostgreSQL requires every unique
index of a partitioned table to contain the partition key, and timestamp first keeps inserts at
the right-hand end of each partition's index.

The table is made here, on first need, not by a migration: tenants are cloned from a template
schema (apps.tenancy.schemas), and that clone copies plain tables only; a partitioned table in
the template would make every new tenant fall back to running all migrations. So the writer, the
server-side recorder and the periodic partition task call `event_table_ensure()` (cheap once the
table exists), and so does a tenant's restore (registered as a BackupPart's `prepare`), before it
loads the backup's events through the partitioned table.

Partitions are kept from HUB_ANALYTICS_PARTITIONS_BEHIND months back to
HUB_ANALYTICS_PARTITIONS_AHEAD months ahead (`partitions_ensure`, run by a periodic task). A
month whose events already sit in the DEFAULT partition (a backfill, or a month the task missed)
is made by moving them out: the new table is filled from the default partition and attached, in
one transaction.

Idempotency
-----------
Re-sending an event (same uuid) must not store it twice. A unique index on (uuid, timestamp) —
the most a partitioned table allows — is not enough: the stored timestamp is corrected by the
request's clock skew (timestamp + now - sent_at), which differs by a few milliseconds between
two sends of the same event, so the pair differs too. Hence `analytics_eventuuid`, a plain table
whose primary key is the uuid alone: the writer inserts the batch's uuids there with ON CONFLICT
DO NOTHING and writes into the event table only the events whose uuid was new, in one statement.
Concurrent writers are serialised by that primary key, so a uuid is stored once, exactly. Its rows
are pruned once their events are older than any event still accepted (HUB_ANALYTICS_MAX_AGE_DAYS),
so it holds one row per event of the acceptance window, no more.

Persons on events
-----------------
Each event row also holds `person_id`: the person its distinct id belonged to when the writer
stored it (the writer gives every distinct id a person before writing, in the same transaction),
as PostHog's "persons on events" does. So the queries that only need "whose event" (the funnel's
walk) read it from the index, with no join to `analytics_persondistinctid`. A merge made later
(identify or alias joining two persons) does not rewrite events: it records the merged person's id
→ the surviving one in `analytics_personoverride` (kept flat: a person merged twice points at the
last survivor at once), and the reader maps the ids it read through that small table. The event's
person is thus always override(person_id) — the same person the join through the distinct ids
gives.

Events stored before the column existed have `person_id` NULL until
`manage.py analytics_person_ids_backfill` fills them (the join's person, current, so no override is
needed); a query whose range still holds one (`person_ids_missing`, an empty partial index once
filled) takes the join instead. A restore brings the column with the events, and the persons with
their ids, so the two stay consistent.
"""

import uuid as uuid_module
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction

from . import conf

TABLE = "analytics_event"
DEFAULT_PARTITION = "analytics_event_default"
# The rollups' tables (rollups.py keeps them, queries/rollups.py reads them).
STATE = "analytics_rollup_state"
HOURLY = "analytics_rollup_hourly"
DAILY_PERSONS = "analytics_rollup_daily_persons"
DAILY_UNIQUES = "analytics_rollup_daily_uniques"
FIRST_DAYS = "analytics_rollup_first_days"
PERIOD_PERSONS = "analytics_rollup_period_persons"
PERIODS = {"week": "w", "month": "m"}  # PERIOD_PERSONS.period
# PERIOD_PERSONS again, one row per (event, period, person) and 64 periods: bit i of `bits` is the
# period numbered 64 * block + i (period_number), so retention reads one row a person, not one a week.
PERIOD_BITS = "analytics_rollup_period_bits"
FRESH = "analytics_fresh"  # the events the current transaction stored, not yet in the rollups (a temp table)
COLUMNS = ("timestamp", "uuid", "event", "distinct_id", "properties", "received_at")
# The writer's rows are COLUMNS; the table also holds each event's person as it was when written
# (see "Persons on events" below).
PERSON = "person_id"
OVERRIDES = "analytics_personoverride"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(name: str) -> str:
    """A table of the current tenant's schema, quoted."""
    return f"{_q(connection.schema_name)}.{_q(name)}"


def lock(cursor, what: str) -> None:
    """Takes the tenant's advisory lock `what` until the transaction ends."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:analytics:{what}"])


_qualified, _lock = qualified, lock


def event_table_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [_qualified(TABLE)])
        return cursor.fetchone()[0]


def event_table_ensure() -> bool:
    """Makes the partitioned table, its default partition and the partitions of the window
    around this month, if missing, in the current tenant's schema. Returns whether it made it."""
    if event_table_exists():
        return False
    with connection.cursor() as cursor:
        _lock(cursor, "partitions")
        cursor.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {_qualified(TABLE)} (
                "timestamp" timestamptz NOT NULL,
                uuid uuid NOT NULL,
                event varchar(200) NOT NULL,
                distinct_id varchar(200) NOT NULL,
                properties jsonb NOT NULL DEFAULT '{{}}'::jsonb,
                received_at timestamptz NOT NULL,
                person_id bigint,
                PRIMARY KEY ("timestamp", uuid)
            ) PARTITION BY RANGE ("timestamp");
            CREATE TABLE IF NOT EXISTS {_qualified(DEFAULT_PARTITION)} PARTITION OF {_qualified(TABLE)} DEFAULT;
            """
        )
        indexes_ensure()
    partitions_ensure()
    rollup_tables_ensure(built=True)  # complete as made: there is no event yet
    return True


# The queries' index: every insight picks events by name and time (queries/). It also holds each
# event's person (as written), distinct id and uuid, so a query that needs no properties (funnels,
# uniques, retention, paths) reads the index alone (an index-only scan) and no row of the table.
# Made on the partitioned parent, so each partition has it, including those attached later
# (PostgreSQL builds it on ATTACH when missing).
# The person pages read a person's events, newest first: (distinct_id, "timestamp").
# The events whose person is not written yet (stored before the column existed, see below): a
# partial index, empty once they are filled, so "any in this range?" costs an empty index probe.
INDEXES = {
    "analytics_event_event_ts_person": '(event, "timestamp") INCLUDE (person_id, distinct_id, uuid)',
    "analytics_event_distinct_ts": '(distinct_id, "timestamp")',
    "analytics_event_person_missing": '("timestamp") WHERE person_id IS NULL',
}
# Indexes of earlier versions, dropped once their replacement exists.
INDEXES_RETIRED = ("analytics_event_event_ts", "analytics_event_event_ts_cover")


def indexes_ensure() -> None:
    """The person column and the queries' indexes, on a table made before they were added too (the
    partition task calls this; a no-op once they exist); then drops the indexes they replace."""
    with connection.cursor() as cursor:
        # ALTER TABLE takes the table's exclusive lock even when the column exists: only if missing
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
            "AND NOT attisdropped)",
            [_qualified(TABLE), PERSON],
        )
        if cursor.fetchone()[0]:
            cursor.execute(f"ALTER TABLE {_qualified(TABLE)} ADD COLUMN IF NOT EXISTS {PERSON} bigint")
        for name, columns in INDEXES.items():
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {_q(name)} ON {_qualified(TABLE)} {columns}")
        for name in INDEXES_RETIRED:
            cursor.execute(f"DROP INDEX IF EXISTS {_q(connection.schema_name)}.{_q(name)}")


def month_start(day: date, shift: int = 0) -> date:
    """The first day of the month `shift` months after the one of `day`."""
    months = day.year * 12 + day.month - 1 + shift
    return date(months // 12, months % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def partitions() -> list[str]:
    """The table's partitions, by name (the default one included)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [_qualified(TABLE)],
        )
        return [row[0] for row in cursor.fetchall()]


def partitions_ensure(*, today: date | None = None, behind: int | None = None, ahead: int | None = None) -> list[str]:
    """Makes the missing monthly partitions from `behind` months before this one to `ahead`
    after it, moving any of their events out of the default partition. Returns those made."""
    today = today or datetime.now(UTC).date()
    behind = conf.get("HUB_ANALYTICS_PARTITIONS_BEHIND") if behind is None else behind
    ahead = conf.get("HUB_ANALYTICS_PARTITIONS_AHEAD") if ahead is None else ahead
    made = []
    with connection.cursor() as cursor:
        _lock(cursor, "partitions")
        existing = set(partitions())
        for shift in range(-behind, ahead + 1):
            month = month_start(today, shift)
            name = partition_name(month)
            if name in existing:
                continue
            _partition_create(cursor, name, month, month_start(month, 1))
            made.append(name)
    return made


def _partition_create(cursor, name: str, start: date, end: date) -> None:
    bounds = [datetime(start.year, start.month, 1, tzinfo=UTC), datetime(end.year, end.month, 1, tzinfo=UTC)]
    table, new, default = _qualified(TABLE), _qualified(name), _qualified(DEFAULT_PARTITION)
    cursor.execute(f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f'WITH moved AS (DELETE FROM {default} WHERE "timestamp" >= %s AND "timestamp" < %s RETURNING *) '
        f"INSERT INTO {new} SELECT * FROM moved",
        bounds,
    )
    cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {new} FOR VALUES FROM (%s) TO (%s)", bounds)


def rows_write(rows: list, *, returning: bool = False, person_of: dict | None = None) -> tuple[int, set[str]]:
    """Writes `rows` (sequences of COLUMNS, JSON as text) into the event table, skipping every
    uuid written before (see Idempotency above), each with the person `person_of` gives its
    distinct id (NULL without). Returns how many were new and, if `returning`, their uuids. Run it
    in a transaction."""
    if not rows:
        return 0, set()
    event_table_ensure()
    person_of = person_of or {}
    stored_columns = (*COLUMNS, PERSON)
    columns = ", ".join(_q(c) for c in stored_columns)
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # psycopg's own, for COPY
        cursor.execute(
            'CREATE TEMP TABLE analytics_incoming ("timestamp" timestamptz, uuid uuid, event text, '
            "distinct_id text, properties jsonb, received_at timestamptz, person_id bigint) ON COMMIT DROP"
        )
        with cursor.copy(f"COPY analytics_incoming ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, person_of.get(row[3])))
        # The events stored now also go to a temp table, for the rollups (rollups.fresh_apply).
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {FRESH} "
            '("timestamp" timestamptz, uuid uuid, event text, distinct_id text) ON COMMIT DROP'
        )
        cursor.execute(
            f"""
            WITH batch AS (
                SELECT DISTINCT ON (uuid) * FROM analytics_incoming ORDER BY uuid, received_at
            ), fresh AS (
                INSERT INTO {_qualified("analytics_eventuuid")} (uuid, "timestamp")
                SELECT uuid, "timestamp" FROM batch
                ON CONFLICT DO NOTHING
                RETURNING uuid
            ), stored AS (
                INSERT INTO {_qualified(TABLE)} ({columns})
                SELECT {", ".join("b." + _q(c) for c in stored_columns)} FROM batch b JOIN fresh f ON f.uuid = b.uuid
                RETURNING "timestamp", uuid, event, distinct_id
            )
            INSERT INTO pg_temp.{FRESH} SELECT * FROM stored
            {"RETURNING uuid::text" if returning else ""}
            """
        )
        count = cursor.rowcount
        written = {row[0] for row in cursor.fetchall()} if returning else set()
        cursor.execute("DROP TABLE analytics_incoming")
    return count, written


def uuids_claim(rows: list) -> list:
    """Records the rows' uuids as written (for a store outside PostgreSQL, in the caller's
    transaction) and returns the rows whose uuid was new: one row a uuid, the first received."""
    first = {}
    for row in sorted(rows, key=lambda r: r[5]):
        first.setdefault(str(uuid_module.UUID(row[1])), row)
    if not first:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_qualified("analytics_eventuuid")} (uuid, "timestamp")
            SELECT * FROM unnest(%s::uuid[], %s::timestamptz[]) ON CONFLICT DO NOTHING RETURNING uuid::text
            """,
            [list(first), [row[0] for row in first.values()]],
        )
        fresh = {row[0] for row in cursor.fetchall()}
    return [row for uuid, row in first.items() if uuid in fresh]


def person_ids_missing(start: datetime, end: datetime) -> bool:
    """Whether an event from `start` to before `end` has no person written yet (stored before
    the column existed and not filled yet): one probe of the partial index, empty once filled."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT EXISTS (SELECT 1 FROM {_qualified(TABLE)} WHERE {PERSON} IS NULL AND "timestamp" >= %s '
            'AND "timestamp" < %s)',
            [start, end],
        )
        return cursor.fetchone()[0]


def person_ids_backfill(*, progress=None) -> int:
    """Writes the person of every event stored without one (before the column existed): its
    distinct id's person now, one UTC day per transaction (a stopped run keeps what it did), then
    vacuums the table, so queries read its index alone again. Returns the events filled.
    Run it outside a transaction. An event whose distinct id has no person stays without one.

    It takes no lock against the writer: a merge committed meanwhile may leave some events with
    the merged person's id, which its override maps to the survivor, as for events written before
    the merge."""
    indexes_ensure()
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT min("timestamp"), max("timestamp") FROM {_qualified(TABLE)} WHERE {PERSON} IS NULL')
        first, last = cursor.fetchone()
    days = []
    if first is not None:
        day = datetime(first.year, first.month, first.day, tzinfo=UTC)
        while day <= last:
            days.append(day)
            day += timedelta(days=1)
    if progress is not None:
        progress.start("events' persons", len(days))
    filled = 0
    for day in days:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_qualified(TABLE)} e SET {PERSON} = pdi.person_id "
                f"FROM {_qualified('analytics_persondistinctid')} pdi "
                f'WHERE e.{PERSON} IS NULL AND e."timestamp" >= %s AND e."timestamp" < %s '
                "AND pdi.distinct_id = e.distinct_id",
                [day, day + timedelta(days=1)],
            )
            filled += cursor.rowcount
        if progress is not None:
            progress.advance(1)
    if days and not connection.in_atomic_block:  # VACUUM cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {_qualified(TABLE)}")
    if progress is not None:
        progress.finish(f"{filled:,} events in {len(days)} days")
    return filled


def events_count() -> int:
    if not event_table_exists():
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_qualified(TABLE)}")
        return cursor.fetchone()[0]


def events_read(chunk: int = 50_000):
    """Every event of the table, as queue rows (timestamps ISO 8601, properties JSON text), in
    lists of up to `chunk` (a server-side cursor: memory stays flat). Run it in a transaction."""
    if not event_table_exists():
        return
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            'SELECT "timestamp", uuid::text, event, distinct_id, properties::text, received_at '
            f"FROM {_qualified(TABLE)}"
        )
        while rows := cursor.fetchmany(chunk):
            yield [[r[0].isoformat(), r[1], r[2], r[3], r[4], r[5].isoformat()] for r in rows]


def uuids_prune(*, now: datetime | None = None) -> int:
    """Forgets the uuids of events too old to be accepted again; returns how many."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=conf.get("HUB_ANALYTICS_MAX_AGE_DAYS") + 2)
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM {_qualified("analytics_eventuuid")} WHERE "timestamp" < %s', [cutoff])
        return cursor.rowcount


# --- The rollups' tables ------------------------------------------------------------------------


def tenant_time_zone() -> str:
    from apps.tenancy.models import Tenant

    zone = getattr(connection.tenant, "time_zone", None)
    if zone is None:
        zone = Tenant.objects.filter(schema_name=connection.schema_name).values_list("time_zone", flat=True).first()
    return zone or "UTC"


def rollup_tables_exist() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [qualified(PERIOD_BITS)])
        return cursor.fetchone()[0]


def period_number(start: str, period: str = "period") -> str:
    """SQL: the number of the week ('w') or month ('m', SQL `period`) starting at `start` (SQL, a
    date), counted from 0001-01-01 (a Monday), never negative. In Python: period_number_of."""
    return (
        f"CASE {period} WHEN 'w' THEN ({start} - date '0001-01-01') / 7 "
        f"ELSE date_part('year', {start})::int * 12 + date_part('month', {start})::int - 1 END"
    )


def period_number_of(start: date, period: str) -> int:
    """period_number() of a date."""
    return (start - date(1, 1, 1)).days // 7 if period == "w" else start.year * 12 + start.month - 1


def period_bits_of(rows: str) -> str:
    """SQL: PERIOD_BITS's rows (event, period, block, person_id, bits) of `rows`, a FROM item with
    PERIOD_PERSONS's columns."""
    return (
        "SELECT event, period, n >> 6, person_id, bit_or(1::int8 << (n & 63)) "
        f"FROM (SELECT event, period, {period_number('start')} AS n, person_id FROM {rows}) AS numbered "
        "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
    )


def rollup_tables_ensure(*, built: bool) -> bool:
    """Makes the rollup tables if missing; `built`: whether they are complete as made (true when
    the event table is new and empty). Returns whether it made them."""
    if rollup_tables_exist():
        return False
    q = qualified
    with connection.cursor() as cursor:
        lock(cursor, "rollups")
        if rollup_tables_exist():  # made by another transaction meanwhile
            return False
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [qualified(PERIOD_PERSONS)])
        older = cursor.fetchone()[0]  # the rollups of before PERIOD_BITS: it is made from PERIOD_PERSONS
        cursor.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {q(STATE)} (
                id int PRIMARY KEY CHECK (id = 1), time_zone text NOT NULL, built_at timestamptz);
            CREATE TABLE IF NOT EXISTS {q(HOURLY)} (
                event varchar(200) NOT NULL, hour timestamptz NOT NULL, events bigint NOT NULL,
                PRIMARY KEY (event, hour));
            CREATE TABLE IF NOT EXISTS {q(DAILY_PERSONS)} (
                event varchar(200) NOT NULL, day date NOT NULL, person_id bigint NOT NULL,
                PRIMARY KEY (event, day, person_id));
            CREATE INDEX IF NOT EXISTS analytics_rollup_daily_persons_person ON {q(DAILY_PERSONS)} (person_id);
            CREATE TABLE IF NOT EXISTS {q(DAILY_UNIQUES)} (
                event varchar(200) NOT NULL, day date NOT NULL, persons int NOT NULL,
                PRIMARY KEY (event, day));
            CREATE TABLE IF NOT EXISTS {q(FIRST_DAYS)} (
                event varchar(200) NOT NULL, person_id bigint NOT NULL, day date NOT NULL,
                PRIMARY KEY (event, person_id));
            CREATE INDEX IF NOT EXISTS analytics_rollup_first_days_day
                ON {q(FIRST_DAYS)} (event, day) INCLUDE (person_id);
            CREATE TABLE IF NOT EXISTS {q(PERIOD_PERSONS)} (
                event varchar(200) NOT NULL, period char(1) NOT NULL, start date NOT NULL, person_id bigint NOT NULL,
                PRIMARY KEY (event, period, start, person_id));
            CREATE INDEX IF NOT EXISTS analytics_rollup_period_persons_person ON {q(PERIOD_PERSONS)} (person_id);
            CREATE TABLE IF NOT EXISTS {q(PERIOD_BITS)} (
                event varchar(200) NOT NULL, period char(1) NOT NULL, block int NOT NULL, person_id bigint NOT NULL,
                bits bigint NOT NULL,
                PRIMARY KEY (event, period, block, person_id));
            CREATE INDEX IF NOT EXISTS analytics_rollup_period_bits_person ON {q(PERIOD_BITS)} (person_id);
            """
        )
        if older:
            cursor.execute(
                f"INSERT INTO {q(PERIOD_BITS)} (event, period, block, person_id, bits) "
                f"{period_bits_of(q(PERIOD_PERSONS))} ON CONFLICT DO NOTHING"
            )
            cursor.execute(f"ANALYZE {q(PERIOD_BITS)}")  # the planner's sizes: a hash join, not nested loops
        cursor.execute(
            f"INSERT INTO {q(STATE)} (id, time_zone, built_at) VALUES (1, %s, CASE WHEN %s THEN now() END) "
            "ON CONFLICT DO NOTHING",
            [tenant_time_zone(), built],
        )
    return True


def rollup_tables_upgraded() -> bool:
    """Whether the current tenant has rollup tables, making those added since its were made (from
    the older ones: the writer calls this, so no event goes uncounted meanwhile)."""
    if rollup_tables_exist():
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [qualified(PERIOD_PERSONS)])
        if not cursor.fetchone()[0]:
            return False
    rollup_tables_ensure(built=False)  # the state row is kept: built as it was
    return True


def rollup_state() -> tuple[str, datetime | None] | None:
    """(time zone, built at) of the current tenant's rollups; None without rollup tables."""
    if not rollup_tables_exist():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT time_zone, built_at FROM {qualified(STATE)}")
        return cursor.fetchone()
