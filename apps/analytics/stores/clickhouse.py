"""The ClickHouse event store: one ClickHouse database per tenant, `hub_<schema>`, holding

- `events`: MergeTree, a partition per month, ordered by (event, timestamp, uuid), so a query
  for some events over some days reads only their part of the table. It keeps a deduplication
  window (`non_replicated_deduplication_window`): a block inserted again with the same
  `insert_deduplication_token` is dropped (see `rows_write`);
- `person_distinct_id` and `person`: ReplacingMergeTree copies of PostgreSQL's persons, a row a
  change with a version; queries take each id's latest row (argMax by version), so an alias or
  merge made after the events is applied when the query runs.

PostgreSQL stays the record for persons and for the uuids already written (idempotency, the
`analytics_eventuuid` table), so capture, identify and merges work the same for both stores.
"""

import hashlib
import re
import time

import orjson
from django.db import connection

from .. import storage
from ..queries import experiments
from ..queries.activity import lifecycle, stickiness
from ..queries.funnels import funnel
from ..queries.paths import paths
from ..queries.retention import retention
from ..queries.trends import trends
from . import chqueries
from .base import CLICKHOUSE
from .chclient import client

EVENT_COLUMNS = ["timestamp", "uuid", "event", "distinct_id", "properties", "received_at"]
_SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_made: set[str] = set()


def database_of(schema: str) -> str:
    """The tenant's ClickHouse database: its schema's name in it, so tenants never share tables."""
    if not _SAFE.match(schema):
        raise ValueError(f"{schema!r} is not a schema name.")
    return f"hub_{schema}"


def tables_ensure(db: str) -> None:
    ch = client()
    ch.command(f"CREATE DATABASE IF NOT EXISTS `{db}`")
    ch.command(
        f"""CREATE TABLE IF NOT EXISTS `{db}`.events (
            timestamp DateTime64(6, 'UTC'), uuid UUID, event LowCardinality(String), distinct_id String,
            properties String, received_at DateTime64(6, 'UTC')
        ) ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (event, timestamp, uuid)
        SETTINGS non_replicated_deduplication_window = 10000"""
    )
    ch.command(
        f"""CREATE TABLE IF NOT EXISTS `{db}`.person_distinct_id (
            distinct_id String, person_id Int64, version UInt64
        ) ENGINE = ReplacingMergeTree(version) ORDER BY distinct_id"""
    )
    ch.command(
        f"""CREATE TABLE IF NOT EXISTS `{db}`.person (
            id Int64, uuid UUID, properties String, version UInt64
        ) ENGINE = ReplacingMergeTree(version) ORDER BY id"""
    )


def tables_drop(schema: str) -> None:
    """Drops the tenant's ClickHouse database (tests, a tenant's deletion, a failed move)."""
    db = database_of(schema)
    client().command(f"DROP DATABASE IF EXISTS `{db}`")
    _made.discard(db)


def block_token(rows: list[list]) -> str:
    """The deduplication token of a block of event rows: the same rows give the same token."""
    return hashlib.sha256(orjson.dumps(sorted(rows, key=lambda r: r[1]))).hexdigest()


def events_insert(schema: str, rows: list[list], *, deduplicate: bool = True) -> None:
    """Inserts event rows (EVENT_COLUMNS; properties as JSON text) as one block; the same block
    inserted again (a writer that died before its PostgreSQL commit) is dropped by ClickHouse.
    A bulk copy whose rows are known to be new passes deduplicate=False."""
    db = database_of(schema)
    token = block_token(rows) if deduplicate else None
    client().insert(f"`{db}`.events", EVENT_COLUMNS, rows, token=token, deduplicate=deduplicate)


def tables_empty(schema: str) -> None:
    """Empties the tenant's tables (tests)."""
    db = database_of(schema)
    for table in ("events", "person_distinct_id", "person"):
        client().command(f"TRUNCATE TABLE IF EXISTS `{db}`.{table}")


def persons_copy(schema: str, rows: list[tuple]) -> None:
    """Writes persons' current state: rows of (distinct_id, person_id, person uuid, properties
    JSON text). A newer version wins over older rows of the same id."""
    if not rows:
        return
    db = database_of(schema)
    version = time.time_ns()
    ch = client()
    ch.insert(
        f"`{db}`.person_distinct_id", ["distinct_id", "person_id", "version"], [[d, p, version] for d, p, _, _ in rows]
    )
    persons = {p: (u, props) for _, p, u, props in rows}
    ch.insert(
        f"`{db}`.person",
        ["id", "uuid", "properties", "version"],
        [[p, u, props, version] for p, (u, props) in persons.items()],
    )


def persons_of(distinct_ids) -> list[tuple]:
    """From PostgreSQL: every distinct id of the persons of `distinct_ids`, with the person's id,
    uuid and properties (a merge moved ids to another person: they come along)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT other.distinct_id, p.id, p.uuid::text, p.properties::text
            FROM analytics_persondistinctid mine
            JOIN analytics_person p ON p.id = mine.person_id
            JOIN analytics_persondistinctid other ON other.person_id = p.id
            WHERE mine.distinct_id = ANY(%s)
            """,
            [list(distinct_ids)],
        )
        return cursor.fetchall()


def persons_all(chunk: int = 50_000):
    """Every distinct id of PostgreSQL's persons, as persons_of gives them, in lists of `chunk`."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            "SELECT pdi.distinct_id, p.id, p.uuid::text, p.properties::text FROM analytics_persondistinctid pdi "
            "JOIN analytics_person p ON p.id = pdi.person_id"
        )
        while rows := cursor.fetchmany(chunk):
            yield rows


class ClickHouseStore:
    name = CLICKHOUSE
    has_rollups = False

    def __init__(self, schema: str):
        self.schema = schema
        self.db = database_of(schema)

    def ensure(self) -> None:
        if self.db not in _made:
            tables_ensure(self.db)
            _made.add(self.db)

    def rows_write(self, rows: list[list], *, returning: bool = False, person_of=None) -> tuple[int, set[str]]:
        """Claims the rows' uuids in PostgreSQL (in the caller's transaction), then inserts the
        fresh ones here (without `person_of`: this store joins its copy of the persons, see
        persons_changed). If the process dies before PostgreSQL commits, the claim is undone and the
        next writer inserts the same block again, which ClickHouse drops (same token)."""
        if not rows:
            return 0, set()
        self.ensure()
        fresh = storage.uuids_claim(rows)
        if fresh:
            events_insert(self.schema, fresh)
        return len(fresh), {row[1] for row in fresh}

    def persons_changed(self, distinct_ids: set[str]) -> None:
        if distinct_ids:
            self.ensure()
            persons_copy(self.schema, persons_of(distinct_ids))

    def trends(self, query, *, tz) -> dict:
        source = chqueries.Trends(self.db)
        return trends(query, tz=tz, top_values=source.top_values, values=source.values)

    def funnel(self, query, *, tz) -> dict:
        return funnel(query, tz=tz, persons_events=chqueries.Funnel(self.db).persons_events)

    def retention(self, query, *, tz) -> dict:
        return retention(query, tz=tz, cohort_rows=chqueries.Retention(self.db).rows)

    def stickiness(self, query, *, tz) -> dict:
        return stickiness(query, tz=tz, counts_rows=chqueries.Activity(self.db).stickiness_rows)

    def lifecycle(self, query, *, tz) -> dict:
        return lifecycle(query, tz=tz, status_rows=chqueries.Activity(self.db).lifecycle_rows)

    def cohort_person_ids(self, rule) -> list[int]:
        """The persons in a cohort (a CohortRule) now, its behaviours counted on these events."""
        self.ensure()
        return chqueries.cohort_members(self.db, rule)

    def paths(self, query, *, tz) -> dict:
        return paths(query, tz=tz, counted=chqueries.Paths(self.db).counted)

    def experiment_outcomes(self, **kwargs) -> dict:
        self.ensure()
        return experiments.shaped(chqueries.experiment_outcomes(self.db, **kwargs))
