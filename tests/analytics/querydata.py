"""Random event sets for the query tests, and loading them into the real tables."""

import contextlib
import uuid as uuid_module
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from django.db import connection, transaction
from hypothesis import strategies as st

from apps.analytics import rollups, services, storage
from apps.analytics.models import Person, PersonDistinctId
from apps.analytics.queries.shapes import Filter
from apps.analytics.stores import clickhouse

TZ = ZoneInfo("America/New_York")  # DST starts on 2026-03-08 there
FIRST_DAY = date(2026, 3, 5)
DAYS = 6
EVENT_NAMES = ["view", "signup", "pay"]
DISTINCT_IDS = [f"d{i}" for i in range(6)]
START = datetime(2026, 3, 5, tzinfo=TZ).astimezone(UTC)


def _edges() -> list[int]:
    """Seconds from START to just before, at and after each local midnight."""
    out = []
    for day in range(DAYS + 1):
        midnight = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), tzinfo=TZ)
        at = int((midnight.astimezone(UTC) - START).total_seconds())
        out += [at - 1, at, at + 1]
    return [s for s in out if s >= 0]


EDGES = _edges()
property_values = st.one_of(
    st.sampled_from(["free", "team", "pro", "x"]), st.integers(-3, 40), st.booleans(), st.sampled_from([1.5, 2.25])
)
event_properties = st.dictionaries(st.sampled_from(["plan", "amount", "flag"]), property_values, max_size=3)
seconds = st.one_of(st.integers(0, DAYS * 86400), st.sampled_from(EDGES))


@st.composite
def events(draw, min_size=0, max_size=40):
    out = []
    for _ in range(draw(st.integers(min_size, max_size))):
        out.append(
            {
                "timestamp": START + timedelta(seconds=draw(seconds)),
                "uuid": str(uuid_module.UUID(int=draw(st.integers(0, 2**64)), version=4)),
                "event": draw(st.sampled_from(EVENT_NAMES)),
                "distinct_id": draw(st.sampled_from(DISTINCT_IDS)),
                "properties": draw(event_properties),
            }
        )
    # uuids are unique in the table
    return list({e["uuid"]: e for e in out}.values())


@st.composite
def persons(draw):
    """{distinct_id: (person key, properties)}: a few persons, several ids merged into one."""
    owners = {d: draw(st.integers(0, 3)) for d in DISTINCT_IDS}
    props = {
        p: draw(
            st.fixed_dictionaries(
                {}, optional={"plan": st.sampled_from(["free", "team"]), "test_account": st.booleans()}
            )
        )
        for p in set(owners.values())
    }
    return {d: (owners[d], props[owners[d]]) for d in DISTINCT_IDS}


def _sensible(f: Filter) -> Filter:
    """gt/lt compare numbers, contains looks for text."""
    if f.op in ("gt", "lt") and (isinstance(f.value, bool) or not isinstance(f.value, int | float)):
        return Filter(f.type, f.key, f.op, 5)
    if f.op in ("contains", "not_contains") and not isinstance(f.value, str):
        return Filter(f.type, f.key, f.op, "e")
    return f


filters = st.builds(
    Filter,
    type=st.sampled_from(["event", "person"]),
    key=st.sampled_from(["plan", "amount", "flag", "test_account"]),
    op=st.sampled_from(["eq", "ne", "contains", "not_contains", "gt", "lt", "is_set", "is_not_set"]),
    value=st.sampled_from(["free", "team", "a", 3, 10, True, 1.5]),
).map(_sensible)


def event_at(n: int, name: str, distinct_id: str, at: datetime, properties=None) -> dict:
    """One event for a hand-written case, its uuid made from `n`."""
    return {
        "timestamp": at,
        "uuid": f"00000000-0000-4000-8000-{n:012d}",
        "event": name,
        "distinct_id": distinct_id,
        "properties": properties or {},
    }


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def loaded(event_list, person_map, engine=None):
    """The events and persons in the current tenant's tables, inside a transaction rolled back
    afterwards. Events go in through the writer's storage function (COPY), each with the person
    of its distinct id then (its own), and the persons merged afterwards (overrides), or, for the
    ClickHouse store (`engine`), into its tables (emptied afterwards; persons are in both). The
    event table starts empty here: events a live test committed in this tenant are out of sight."""
    try:
        with transaction.atomic():
            storage.event_table_ensure()
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM analytics_event")
            rows = [
                [
                    e["timestamp"].isoformat(),
                    e["uuid"],
                    e["event"],
                    e["distinct_id"],
                    orjson.dumps(e["properties"]).decode(),
                    e["timestamp"].isoformat(),
                ]
                for e in event_list
            ]
            on_clickhouse = engine is not None and engine.name == "clickhouse"
            own = {}  # as the writer does: each distinct id a person of its own when its events come
            for distinct_id, (_, props) in person_map.items():
                person = Person.objects.create(properties=props)
                PersonDistinctId.objects.create(distinct_id=distinct_id, person=person)
                own[distinct_id] = person.pk
            if not on_clickhouse:
                storage.rows_write(rows, person_of=own)
            made = _merged(person_map, own)
            if on_clickhouse:
                _clickhouse_load(engine, rows, person_map)
            else:
                rollups.fresh_apply()  # as the writer does once the persons are made
            try:
                yield made
            finally:
                if on_clickhouse:
                    clickhouse.tables_empty(engine.schema)
            raise _Rollback
    except _Rollback:
        pass


def _merged(person_map, own) -> dict:
    """{person key: Person}: the distinct ids of each key merged after their events were written,
    as identify does, in a chain (the last id's person into the one before, …, into the first's),
    so the person overrides are flattened on the way. Every person was made with its key's
    properties."""
    ids = {}
    for distinct_id, (key, _) in person_map.items():
        ids.setdefault(key, []).append(distinct_id)
    made = {}
    for key, chain in ids.items():
        for gone, into in zip(reversed(chain[1:]), reversed(chain[:-1]), strict=True):
            services.person_merge(into=own[into], gone=own[gone])
            Person.objects.filter(pk=own[gone]).delete()
        made[key] = Person.objects.get(pk=own[chain[0]])
    return made


def _clickhouse_load(engine, rows, person_map) -> None:
    engine.ensure()
    clickhouse.events_insert(engine.schema, rows, deduplicate=False)
    clickhouse.persons_copy(engine.schema, clickhouse.persons_of(set(person_map)))
