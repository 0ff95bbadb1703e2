"""Analytics queries on 10 million events of one tenant: trend_10m_ms, uniques_10m_ms,
funnel_10m_ms, retention_10m_ms (each also prints its raw-scan baseline where rollups answer).

The dataset
-----------
Made once in the benchmark database and kept (a tenant of its own, `bench-analytics-10m`, never
deleted by the benchmarks; a marker table holds the dataset's version): 10,000,000 events over the
90 days 2026-08-01 to 2026-10-29 (UTC), spread evenly in time, 20 event names with skewed
frequencies ($pageview about a quarter of all events), 100,000 persons with power-law activity
(person rank r does about r^-0.6 of the events), 20,000 of them with a second, anonymous distinct
id merged into them (about a third of their events carry it), small event properties. Each event
holds its person as the writer stores it ("persons on events", apps/analytics/storage.py): the
anonymous ids' events carry the anonymous person each had before the merge, and the merges are
20,000 rows of `analytics_personoverride` (merged person → survivor), as if every anonymous visitor
had identified after browsing. It is made
server-side in one INSERT … SELECT over generate_series (no client round trip: quicker than COPY
from Python), in timestamp order so every index grows at its end, then the rollups are rebuilt
(`rollups_rebuild`, timed and logged). The tenant's time zone is Europe/Berlin (whole hours, with
a DST change inside the range). Delete the tenant (or bump DATASET_VERSION) to make it again.

Measuring
---------
Each figure is the median of BENCH_QUERY_RUNS runs (default 15) after 2 warm-up runs, of the
query engine itself (`run.answer`: what query_run computes when its Redis cache misses), so
PostgreSQL's buffers are warm and the per-tenant Redis result cache is bypassed: no figure here is
a cache hit. A cache hit (query_run with the answer cached) is printed as query_cached_ms.
"""

import os
import statistics
import time
from datetime import UTC, date, datetime

from bench.common import log, report

SLUG = "bench-analytics-10m"
DATASET_VERSION = 2  # 2: persons on events (person_id, overrides)
EVENTS = int(os.environ.get("BENCH_10M_EVENTS", "10000000"))
PERSONS = 100_000
ANONYMOUS = 20_000
FIRST = datetime(2026, 8, 1, tzinfo=UTC)
DAYS = 90
TIME_ZONE = "Europe/Berlin"
RUNS = int(os.environ.get("BENCH_QUERY_RUNS", "15"))
NAMES = [
    "$pageview", "$autocapture", "$pageleave", "viewed_product", "searched", "added_to_cart", "clicked_banner",
    "opened_email", "signed_up", "logged_in", "started_checkout", "purchased", "shared", "commented",
    "uploaded_file", "invited_member", "changed_plan", "exported_report", "viewed_invoice", "deleted_account",
]  # fmt: skip


def _tenant():
    """The dataset's tenant, made (with its 10M events and rollups) if missing or out of date."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_create, tenant_delete

    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is not None:
        with schema_context(tenant.schema_name), connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('bench_dataset') IS NOT NULL")
            version = None
            if cursor.fetchone()[0]:
                cursor.execute("SELECT version, events FROM bench_dataset")
                version = cursor.fetchone()
        if version == (DATASET_VERSION, EVENTS):
            with schema_context(tenant.schema_name):
                _indexes_ensure()
                _rollups_ensure()
            return tenant
        log("analytics 10m: the dataset is out of date; making it again")
        tenant_delete(tenant=tenant)
    tenant = tenant_create(name="Bench Analytics 10M", slug=SLUG, plan="enterprise")
    Tenant.objects.filter(pk=tenant.pk).update(time_zone=TIME_ZONE)
    tenant.refresh_from_db()
    with schema_context(tenant.schema_name):
        _dataset_make()
    return tenant


def _dataset_make() -> None:
    from django.db import connection, transaction

    from apps.analytics import storage

    started = time.monotonic()
    with transaction.atomic():
        storage.event_table_ensure()
        storage.partitions_ensure(today=date(2026, 9, 15), behind=2, ahead=2)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(
                "INSERT INTO analytics_person (uuid, properties, created) "
                "SELECT gen_random_uuid(), jsonb_build_object('plan', (ARRAY['free','team','pro'])[1 + i %% 3]), now() "
                "FROM generate_series(1, %s) i",
                [PERSONS + ANONYMOUS],
            )
            cursor.execute("SELECT min(id) FROM analytics_person")
            first_id = cursor.fetchone()[0]
            anonymous_id = first_id + PERSONS  # the anonymous persons, merged into the first ANONYMOUS ones
            cursor.execute(
                "INSERT INTO analytics_persondistinctid (distinct_id, person_id) "
                "SELECT 'u' || i, %s + i - 1 FROM generate_series(1, %s) i "
                "UNION ALL SELECT 'a' || i, %s + i - 1 FROM generate_series(1, %s) i",
                [first_id, PERSONS, first_id, ANONYMOUS],
            )
            cursor.execute(
                "INSERT INTO analytics_personoverride (old_person_id, override_person_id) "
                "SELECT %s + i - 1, %s + i - 1 FROM generate_series(1, %s) i",
                [anonymous_id, first_id, ANONYMOUS],
            )
            cursor.execute("DELETE FROM analytics_person WHERE id >= %s", [anonymous_id])
            # Person rank r = floor(PERSONS * u^2.5) + 1 (u uniform): a power law, rank 1 busiest.
            # Event name k = floor(20 * v^2): $pageview the most frequent.
            cursor.execute(
                """
                INSERT INTO analytics_event ("timestamp", uuid, event, distinct_id, properties, received_at, person_id)
                SELECT ts, gen_random_uuid(), (%s::text[])[1 + floor(20 * power(random(), 2))::int],
                       CASE WHEN anonymous THEN 'a' ELSE 'u' END || r,
                       jsonb_build_object('$browser', (ARRAY['Chrome','Firefox','Safari','Edge'])[1 + i %% 4],
                                          'amount', i %% 50),
                       ts, CASE WHEN anonymous THEN %s ELSE %s END + r - 1
                FROM (
                    SELECT i, ts, r, r <= %s AND random() < 0.35 AS anonymous
                    FROM (
                        SELECT i, %s::timestamptz + (i::float8 / %s) * %s * interval '1 day' AS ts,
                               1 + floor(%s * power(random(), 2.5))::int AS r
                        FROM generate_series(0, %s - 1) i
                    ) AS g
                ) AS a
                """,
                [NAMES, anonymous_id, first_id, ANONYMOUS, FIRST, EVENTS, DAYS, PERSONS, EVENTS],
            )
            cursor.execute("CREATE TABLE bench_dataset (version int, events bigint)")
            cursor.execute("INSERT INTO bench_dataset VALUES (%s, %s)", [DATASET_VERSION, EVENTS])
    log(f"analytics 10m: {EVENTS} events written in {time.monotonic() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) analytics_event")  # all-visible: index-only scans, as in steady state
        cursor.execute("ANALYZE analytics_persondistinctid")
        cursor.execute("ANALYZE analytics_person")
        cursor.execute("ANALYZE analytics_personoverride")
    _rollups_ensure()


def _indexes_ensure() -> None:
    """The event table's indexes as the current code wants them (a kept dataset made before the
    covering index gets it once, about 4 minutes here; then a no-op)."""
    from apps.analytics import storage

    started = time.monotonic()
    storage.indexes_ensure()
    if time.monotonic() - started > 5:
        log(f"analytics 10m: indexes made again in {time.monotonic() - started:.0f} s")


def _rollups_ensure() -> None:
    """Rebuilds the rollups unless the marker says they were built from the dataset (the events
    were loaded behind the writer's back, so the rollups made with the table are empty)."""
    from django.db import connection

    from apps.analytics import services

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE bench_dataset ADD COLUMN IF NOT EXISTS rollups_built bool NOT NULL DEFAULT false")
        cursor.execute("SELECT rollups_built FROM bench_dataset")
        built = cursor.fetchone()[0]
    if not built or services.rollups_stale():
        started = time.monotonic()
        services.rollups_rebuild()
        log(f"analytics 10m: rollups rebuilt in {time.monotonic() - started:.1f} s (BENCH_10M rollups_rebuild)")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE bench_dataset SET rollups_built = true")


def _timed(run, runs: int = RUNS) -> float:
    for _ in range(2):
        run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _measure(name: str, data: dict, *, baseline: bool) -> None:
    """BENCH `name`: the engine's answer (rollups where they serve it); with `baseline`, also
    `<name minus _ms>_raw_ms`: the same query on raw events."""
    from zoneinfo import ZoneInfo

    from django_tenants.utils import schema_context

    from apps.analytics.queries import run as engine
    from apps.analytics.queries.shapes import query_parse
    from apps.analytics.stores.postgres import PostgresStore

    store = PostgresStore()

    tenant = _tenant()
    query, tz = query_parse(data), ZoneInfo(tenant.time_zone)
    with schema_context(tenant.schema_name):
        source = engine.answer(query, tz, store)["source"]
        report(name, _timed(lambda: engine.answer(query, tz, store)), "ms")
        log(f"{name}: answered from {source}")
        if baseline:
            report(name.removesuffix("_ms") + "_raw_ms", _timed(lambda: engine.raw_answer(query, tz, store)), "ms")


TREND = {"kind": "trends", "date_from": "2026-09-01", "date_to": "2026-09-30", "interval": "day"}


def trend_10m_ms():
    """A 30-day daily trend (total $pageview events); baseline: the raw scan."""
    _measure("trend_10m_ms", {**TREND, "series": [{"event": "$pageview"}]}, baseline=True)


def uniques_10m_ms():
    """30-day daily unique persons who did $pageview; baseline: the raw scan."""
    _measure("uniques_10m_ms", {**TREND, "series": [{"event": "$pageview", "math": "unique_persons"}]}, baseline=True)


def funnel_10m_ms():
    """$pageview → added_to_cart → purchased, ordered, entered over 7 days, 14-day window (the
    default). The engine walks it with numpy over the events' own person ids (persons on events);
    measured in the same run, the baselines: funnel_10m_join_ms, the same numpy walk with each
    event's person joined through its distinct id (the engine before persons on events), and
    funnel_10m_sql_ms, the plain SQL funnel (window functions, persons joined). All three must
    give the same answer (checked, or the benchmark fails)."""
    from zoneinfo import ZoneInfo

    from django_tenants.utils import schema_context

    from apps.analytics.queries.funnels import funnel
    from apps.analytics.queries.shapes import query_parse

    steps = [{"event": "$pageview"}, {"event": "added_to_cart"}, {"event": "purchased"}]
    data = {"kind": "funnel", "date_from": "2026-09-07", "date_to": "2026-09-13", "steps": steps}
    _measure("funnel_10m_ms", data, baseline=False)
    tenant = _tenant()
    query, tz = query_parse(data), ZoneInfo(tenant.time_zone)
    with schema_context(tenant.schema_name):
        answers = {walk: funnel(query, tz=tz, method=walk) for walk in ("auto", "join", "sql")}
        if answers["auto"] != answers["join"] or answers["auto"] != answers["sql"]:
            raise AssertionError(f"the funnel's walks disagree: {answers}")
        log(f"funnel_10m: {[s['count'] for s in answers['auto']['steps']]} persons by step, the same in every walk")
        report("funnel_10m_join_ms", _timed(lambda: funnel(query, tz=tz, method="join")), "ms")
        # the SQL walk takes seconds a run: 5 runs
        report("funnel_10m_sql_ms", _timed(lambda: funnel(query, tz=tz, method="sql"), runs=min(RUNS, 5)), "ms")


def retention_10m_ms():
    """8 weekly first-time cohorts of $pageview coming back to $pageview; baseline: raw."""
    data = {"kind": "retention", "date_from": "2026-08-03", "date_to": "2026-09-27", "period": "week", "periods": 8,
            "start_event": "$pageview", "return_event": "$pageview"}  # fmt: skip
    _measure("retention_10m_ms", data, baseline=True)
