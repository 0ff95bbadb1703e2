"""The event store's interface: where a tenant's events are written and its queries answered.

Two stores implement it: `postgres.PostgresStore` (the default: the partitioned table in the
tenant's schema) and `clickhouse.ClickHouseStore` (a ClickHouse database of the tenant, on a
server through clickhouse-connect or in-process through chDB). Persons, their distinct ids and
the uuids already written (idempotency) stay in PostgreSQL for both: the ClickHouse store keeps a
copy of the persons, refreshed by the writer, and resolves each event's person when a query runs.

Every query method takes a parsed query (queries/shapes.py) and the tenant's time zone, and
answers exactly what the PostgreSQL engine answers (the query tests run both against the
reference). A new query kind adds a method here and in both stores.
"""

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from ..queries.shapes import FunnelQuery, LifecycleQuery, PathsQuery, RetentionQuery, StickinessQuery, TrendsQuery

POSTGRES = "postgres"
CLICKHOUSE = "clickhouse"
NAMES = (POSTGRES, CLICKHOUSE)


class EventStore(Protocol):
    name: str
    has_rollups: bool  # queries/rollups.py may answer instead of the raw events

    def ensure(self) -> None:
        """Makes the tenant's tables if they are missing (cheap once they exist)."""

    def rows_write(
        self, rows: list[list], *, returning: bool = False, person_of: dict[str, int] | None = None
    ) -> tuple[int, set[str]]:
        """Writes queue rows (timestamp, uuid, event, distinct_id, properties JSON text,
        received_at), skipping every uuid written before, in the caller's PostgreSQL transaction.
        `person_of`: each distinct id's person id now, for a store that keeps it on the event.
        Returns how many were new and (if `returning`, or always when the store needs it) their
        uuids. Writing the same rows again after a crash stores nothing twice."""

    def persons_changed(self, distinct_ids: set[str]) -> None:
        """The persons of these distinct ids changed in PostgreSQL (new ids, merges, properties):
        the store brings its view of them up to date."""

    def trends(self, query: TrendsQuery, *, tz: ZoneInfo) -> dict: ...

    def funnel(self, query: FunnelQuery, *, tz: ZoneInfo) -> dict: ...

    def retention(self, query: RetentionQuery, *, tz: ZoneInfo) -> dict: ...

    def stickiness(self, query: StickinessQuery, *, tz: ZoneInfo) -> dict: ...

    def lifecycle(self, query: LifecycleQuery, *, tz: ZoneInfo) -> dict: ...

    def paths(self, query: PathsQuery, *, tz: ZoneInfo) -> dict: ...

    def experiment_outcomes(
        self,
        *,
        flag_key: str,
        goal_event: str,
        prop: str,
        start: datetime,
        end: datetime,
        goal_filters=(),
        unit: str = "person",
    ) -> dict:
        """An experiment's sufficient statistics per variant (queries/experiments.py)."""
