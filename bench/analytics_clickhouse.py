"""The analytics queries on the ClickHouse store (chDB, in this process), on 10 million events:
trend_10m_ch_ms, uniques_10m_ch_ms, funnel_10m_ch_ms, retention_10m_ch_ms, paths_10m_ch_ms
(paths after "$pageview" over 30 days: 5 steps, top 10 per step, 30-minute sessions; as
bench/analytics_paths.py's paths_ms on PostgreSQL) and cohort_10m_ch_ms (the 30-day unique
persons trend filtered by a rule-based cohort: plan "team" and "purchase" at least twice in the
last 30 days).

The dataset (made once, then kept on disk in .data/bench/chdb-analytics, so reruns start at
once): 10,000,000 events of 100,000 persons over the 90 days up to 2026-11-29, 20 event names,
made by one INSERT … SELECT from numbers() with deterministic pseudo-random columns
(cityHash64 of the row number):

- the person of an event is floor(100,000 · r³) for r uniform in [0, 1): power-law activity, the
  most active 1 % of persons send about a fifth of the events;
- the event name is the floor(20 · r²·⁵)-th of NAMES, so `$pageview` is the most frequent
  (~30 %), `signup` ~4 %, `purchase` ~3 %;
- the time is uniform over the 90 days; properties `{"plan": …, "amount": …}`; every person has
  one distinct id and `{"plan": …}` properties.

Each figure is the median of 5 runs after one warm-up run, through the store's own code
(stores/clickhouse.py: the SQL, the JSON answers and the Python that shapes them), time zone
Europe/Paris, as the API would run them (without the cache).
"""

import dataclasses
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import log, report

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BENCH_CHDB_DIR", ROOT / ".data" / "bench" / "chdb-analytics"))
SCHEMA = "bench_10m"
EVENTS = 10_000_000
PERSONS = 100_000
LAST_DAY = date(2026, 11, 29)
DAYS = 90
NAMES = [
    "$pageview", "$autocapture", "$pageleave", "viewed_pricing", "search", "signup", "invite_sent",
    "purchase", "added_to_cart", "opened_email", "clicked_link", "upgraded_plan", "downgraded_plan",
    "uploaded_file", "shared", "commented", "liked", "logged_in", "logged_out", "deleted_account",
]  # fmt: skip
TZ = ZoneInfo("Europe/Paris")
RUNS = 5


def _r(k: int) -> str:
    return f"(cityHash64(number, {k}) % 1000000000) / 1000000000.0"


def dataset():
    """The store of the benchmark's tenant, its 10 million events made if they are missing."""
    from django.conf import settings

    from apps.analytics.stores.chclient import client
    from apps.analytics.stores.clickhouse import ClickHouseStore, database_of

    settings.HUB_ANALYTICS_CLICKHOUSE_URL = f"chdb://{DATA}"
    store = ClickHouseStore(SCHEMA)
    store.ensure()
    db = database_of(SCHEMA)
    ch = client()
    have = ch.query(f"SELECT count() FROM `{db}`.events")[0][0]
    if have == EVENTS:
        log(f"chdb dataset: {have:,} events already in {DATA}")
        return store
    started = time.monotonic()
    for table in ("events", "person", "person_distinct_id"):
        ch.command(f"TRUNCATE TABLE `{db}`.{table}")
    start = f"toDateTime64('{LAST_DAY - timedelta(days=DAYS - 1)} 00:00:00', 6, 'UTC')"
    names = "[" + ", ".join(f"'{n}'" for n in NAMES) + "]"
    ch.command(
        f"""
        INSERT INTO `{db}`.events
        SELECT {start} + toIntervalMicrosecond(toInt64({_r(1)} * {DAYS * 86400} * 1000000)) AS timestamp,
               generateUUIDv4(number) AS uuid,
               {names}[1 + toUInt8(floor(pow({_r(2)}, 2.5) * 20))] AS event,
               concat('u', toString(toUInt32(floor(pow({_r(3)}, 3) * {PERSONS})))) AS distinct_id,
               concat('{{"plan": "', ['free', 'team', 'pro'][1 + number % 3], '", "amount": ',
                      toString(number % 100), '}}') AS properties,
               timestamp AS received_at
        FROM numbers({EVENTS})
        """
    )
    ch.command(
        f"INSERT INTO `{db}`.person_distinct_id SELECT concat('u', toString(number)), number, 1 FROM numbers({PERSONS})"
    )
    ch.command(
        f"""INSERT INTO `{db}`.person SELECT number, generateUUIDv4(number),
            concat('{{"plan": "', ['free', 'team'][1 + number % 2], '"}}'), 1 FROM numbers({PERSONS})"""
    )
    ch.command(f"OPTIMIZE TABLE `{db}`.events FINAL")
    log(f"chdb dataset: {EVENTS:,} events made in {time.monotonic() - started:.1f} s, kept in {DATA}")
    return store


def _median_ms(run) -> float:
    run()  # warm-up
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _rule_cohort():
    """A cohort filter by rules (no PostgreSQL row: the rule as a query reads it)."""
    from apps.analytics.queries.shapes import Behaviour, CohortRule, Filter

    since = datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC) - timedelta(days=30)
    rule = CohortRule(
        id=0,
        static=False,
        filters=(Filter("person", "plan", "eq", "team"),),
        behaviours=(Behaviour("purchase", 2, 30, since=since),),
    )
    return Filter("cohort", "", "in", 0, cohort=rule)


def analytics_clickhouse():
    from apps.analytics.queries.shapes import query_parse

    store = dataset()
    month = {"date_from": str(LAST_DAY - timedelta(days=29)), "date_to": str(LAST_DAY)}
    queries = {
        "trend_10m_ch_ms": ("trends", {"kind": "trends", **month, "series": [{"event": "$pageview"}]}),
        "uniques_10m_ch_ms": (
            "trends",
            {"kind": "trends", **month, "series": [{"event": "$pageview", "math": "unique_persons"}]},
        ),
        "funnel_10m_ch_ms": (
            "funnel",
            {
                "kind": "funnel",
                "date_from": str(LAST_DAY - timedelta(days=6)),
                "date_to": str(LAST_DAY),
                "steps": [{"event": "$pageview"}, {"event": "signup"}, {"event": "purchase"}],
            },
        ),
        "retention_10m_ch_ms": (
            "retention",
            {
                "kind": "retention",
                "date_from": str(LAST_DAY - timedelta(days=8 * 7 - 1)),
                "date_to": str(LAST_DAY),
                "start_event": "signup",
                "return_event": "$pageview",
                "period": "week",
                "periods": 8,
            },
        ),
    }
    queries["paths_10m_ch_ms"] = (
        "paths",
        {"kind": "paths", **month, "start_event": "$pageview", "steps": 5, "limit": 10, "session_seconds": 1800},
    )
    queries["cohort_10m_ch_ms"] = ("trends", queries["uniques_10m_ch_ms"][1])
    for name, (kind, data) in queries.items():
        query = query_parse(data)
        if name == "cohort_10m_ch_ms":
            query = dataclasses.replace(query, filters=(_rule_cohort(),))
        method = getattr(store, kind)
        report(name, _median_ms(lambda q=query, m=method: m(q, tz=TZ)), "ms")
