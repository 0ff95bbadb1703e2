"""The PostgreSQL event store: the partitioned event table of the tenant's schema (storage.py)
and the query modules' SQL (queries/)."""

from zoneinfo import ZoneInfo

from .. import storage
from ..queries import experiments
from ..queries.activity import lifecycle, stickiness
from ..queries.funnels import funnel
from ..queries.paths import paths
from ..queries.retention import retention
from ..queries.trends import trends
from .base import POSTGRES


class PostgresStore:
    name = POSTGRES
    has_rollups = True  # rollups.py keeps aggregates beside the events (queries/rollups.py reads them)

    def ensure(self) -> None:
        if not storage.event_table_exists():
            storage.event_table_ensure()

    def rows_write(self, rows: list[list], *, returning: bool = False, person_of=None) -> tuple[int, set[str]]:
        return storage.rows_write(rows, returning=returning, person_of=person_of)

    def persons_changed(self, distinct_ids: set[str]) -> None:
        """Persons live in the same schema: nothing to do."""

    def trends(self, query, *, tz: ZoneInfo) -> dict:
        return trends(query, tz=tz)

    def funnel(self, query, *, tz: ZoneInfo) -> dict:
        return funnel(query, tz=tz)

    def retention(self, query, *, tz: ZoneInfo) -> dict:
        return retention(query, tz=tz)

    def stickiness(self, query, *, tz: ZoneInfo) -> dict:
        return stickiness(query, tz=tz)

    def lifecycle(self, query, *, tz: ZoneInfo) -> dict:
        return lifecycle(query, tz=tz)

    def paths(self, query, *, tz: ZoneInfo) -> dict:
        return paths(query, tz=tz)

    def experiment_outcomes(self, **kwargs) -> dict:
        if not storage.event_table_exists():
            return {"variants": {}, "mixed": 0}
        return experiments.outcomes(**kwargs)
