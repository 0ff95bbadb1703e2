"""paths_ms and cohort_filter_ms: the paths query and cohort filters on raw events.

A tenant of its own gets BENCH_PATHS_EVENTS events (default 1,000,000) of BENCH_PATHS_PERSONS
persons (default 10,000) over the last 30 days, made in SQL (generate_series): each person's
events come in sessions of 10, two minutes apart, sessions three days apart, the event names
drawn from five by a hash. Each figure is the median of 5 runs of the query's own function (no
answer cache), in the tenant's schema:

- paths_ms: paths after "$pageview", 5 steps, top 10 transitions per step, 30-minute sessions,
  over the 30 days (also prints paths_end_ms: the paths before "purchase");
- cohort_filter_ms: a 30-day daily trend of unique persons filtered by a rule-based cohort
  (persons on the team plan who did "purchase" at least twice in the last 30 days); also prints
  cohort_static_ms (a static cohort of 1,000 listed ids) and cohort_none_ms (no cohort filter),
  the baseline.
"""

import os
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from bench.common import log, median, report

SLUG = "bench-paths"
EVENTS = int(os.environ.get("BENCH_PATHS_EVENTS", "1000000"))
PERSONS = int(os.environ.get("BENCH_PATHS_PERSONS", "10000"))
RUNS = 5
NAMES = ["$pageview", "search", "signup", "purchase", "checkout"]


def _fill(now) -> None:
    from django.db import connection

    from apps.analytics import storage

    storage.event_table_ensure()
    start = now - timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_person (uuid, properties, created) "
            "SELECT gen_random_uuid(), jsonb_build_object('plan', CASE WHEN i %% 3 = 0 THEN 'team' ELSE 'free' END), "
            "now() FROM generate_series(1, %s) AS i",
            [PERSONS],
        )
        cursor.execute(
            "INSERT INTO analytics_persondistinctid (distinct_id, person_id) "
            "SELECT 'user-' || row_number() OVER (ORDER BY id), id FROM analytics_person"
        )
        cursor.execute(
            """
            INSERT INTO analytics_event ("timestamp", uuid, event, distinct_id, properties, received_at)
            SELECT %s::timestamptz + ((i / %s) / 10) * interval '3 days' + ((i %% %s) %% 1440) * interval '1 minute'
                   + ((i / %s) %% 10) * interval '2 minutes',
                   gen_random_uuid(), (%s::text[])[1 + abs(hashint4(i)) %% 5], 'user-' || (1 + i %% %s), '{}', now()
            FROM generate_series(0, %s - 1) AS i
            """,
            [start, PERSONS, PERSONS, PERSONS, NAMES, PERSONS, EVENTS],
        )
        cursor.execute("ANALYZE analytics_event")
        cursor.execute("ANALYZE analytics_person")
        cursor.execute("ANALYZE analytics_persondistinctid")


def _timed(run) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return median(times)


def _tenant():
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_create, tenant_delete

    old = Tenant.objects.filter(slug=SLUG).first()
    if old is not None:
        tenant_delete(tenant=old)
    return tenant_create(name="Bench Paths", slug=SLUG, plan="enterprise"), tenant_delete


def paths_ms():
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.analytics.models import Cohort, CohortMember
    from apps.analytics.queries.cohorts import rule_of
    from apps.analytics.queries.paths import paths
    from apps.analytics.queries.shapes import Filter, PathsQuery, Range, Series, TrendsQuery
    from apps.analytics.queries.trends import trends

    tenant, tenant_delete = _tenant()
    tz = ZoneInfo("UTC")
    now = timezone.now()
    try:
        with schema_context(tenant.schema_name):
            t0 = time.perf_counter()
            _fill(now)
            log(f"paths: {EVENTS:,} events of {PERSONS:,} persons made in {time.perf_counter() - t0:.1f} s")
            rng = Range((now - timedelta(days=29)).date(), now.date())
            after = PathsQuery(range=rng, start_event="$pageview", steps=5, limit=10)
            result = paths(after, tz=tz)
            log(f"paths: {result['paths']:,} paths, {len(result['nodes'])} nodes, {len(result['links'])} links")
            report("paths_ms", _timed(lambda: paths(after, tz=tz)), "ms")
            before = PathsQuery(range=rng, end_event="purchase", steps=5, limit=10)
            report("paths_end_ms", _timed(lambda: paths(before, tz=tz)), "ms")

            rules = Cohort.objects.create(
                name="Team buyers",
                kind=Cohort.RULES,
                filters=[{"type": "person", "key": "plan", "op": "eq", "value": "team"}],
                behaviours=[{"event": "purchase", "min_count": 2, "days": 30}],
            )
            listed = Cohort.objects.create(name="Listed", kind=Cohort.STATIC)
            CohortMember.objects.bulk_create(
                [CohortMember(cohort=listed, distinct_id=f"user-{n}") for n in range(1, PERSONS + 1, PERSONS // 1000)]
            )

            def trend(cohort=None):
                filters = (Filter("cohort", "", "in", cohort.pk, cohort=rule_of(cohort)),) if cohort else ()
                query = TrendsQuery(range=rng, series=(Series("$pageview", "unique_persons"),), filters=filters)
                return lambda: trends(query, tz=tz)

            report("cohort_filter_ms", _timed(trend(rules)), "ms")
            report("cohort_static_ms", _timed(trend(listed)), "ms")
            report("cohort_none_ms", _timed(trend()), "ms")
    finally:
        tenant_delete(tenant=tenant)
