"""analytics_pages: what the analytics pages cost on a tenant with many events.

A tenant with BENCH_PAGES_EVENTS events (default 200,000) of BENCH_PAGES_PERSONS persons (5,000)
over the last 7 days, written by the writer's own COPY path (storage.rows_write). Figures:

- analytics_events_page_ms: the live events page (first page, the default 7 days: counting
  them for the pages is most of it), median of BENCH_PAGES_ROUNDS requests;
- analytics_events_filtered_ms: the same with a property filter (plan=team);
- analytics_persons_page_ms: the persons list (first page, with each one's last event);
- analytics_person_page_ms: a person's page (their events by the (distinct_id, timestamp) index);
- analytics_baseline_page_ms: the notifications page (an empty data table), for scale;
- analytics_distinct_index_write_ratio: rows per second written with that index over rows per
  second without it (the index the person pages need costs the writer this much).

In-process (Django's test client on the tenant's host, the benchmark's production settings).
"""

import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import orjson

from bench.common import log, median, report

SLUG = "bench-analytics-pages"
EVENTS = int(os.environ.get("BENCH_PAGES_EVENTS", "200000"))
PERSONS = int(os.environ.get("BENCH_PAGES_PERSONS", "5000"))
ROUNDS = int(os.environ.get("BENCH_PAGES_ROUNDS", "15"))
CHUNK = 20_000


def _rows(count: int, now: datetime) -> list[list]:
    received = now.isoformat()
    rows = []
    for _ in range(count):
        person = random.randrange(PERSONS)
        properties = {"$pathname": f"/p/{random.randrange(500)}", "plan": random.choice(["team", "pro", "free"])}
        change = {"set": {"email": f"p{person}@shop.test"}} if random.random() < 0.01 else None
        at = now - timedelta(seconds=random.uniform(0, 7 * 86400 - 60))
        name = random.choice(["$pageview", "$pageview", "clicked", "signed_up"])
        rows.append(
            [
                at.isoformat(),
                str(uuid.uuid4()),
                name,
                f"person-{person}",
                orjson.dumps(properties).decode(),
                received,
                change,
            ]
        )
    return rows


def _write(rows) -> float:
    from django.db import transaction

    from apps.analytics import services

    started = time.perf_counter()
    for i in range(0, len(rows), CHUNK):
        with transaction.atomic():
            services.rows_write(rows[i : i + CHUNK])
    return len(rows) / (time.perf_counter() - started)


def _timed(client, path: str) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return median(times)


def analytics_pages():
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django_tenants.utils import schema_context

    from apps.analytics import storage
    from apps.analytics.models import Person
    from apps.identity.services import organisation_provision
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_delete

    old = Tenant.objects.filter(slug=SLUG).first()
    if old is not None:
        tenant_delete(tenant=old)
    tenant, owner = organisation_provision(
        name="Bench Pages", slug=SLUG, owner_email=f"owner@{SLUG}.example.com", owner_password=None
    )
    try:
        now = datetime.now(UTC)
        half = EVENTS // 2
        with schema_context(tenant.schema_name):
            storage.event_table_ensure()
            with connection.cursor() as cursor:
                cursor.execute("DROP INDEX IF EXISTS analytics_event_distinct_ts")
            without = _write(_rows(half, now))
            storage.indexes_ensure()
            with_index = _write(_rows(EVENTS - half, now))
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE analytics_event")
            person = Person.objects.filter(distinct_ids__distinct_id="person-7").get()
        log(f"analytics_pages: {EVENTS} events written ({without:.0f} rows/s without the index, {with_index:.0f} with)")
        report("analytics_distinct_index_write_ratio", with_index / without, "ratio", digits=2)

        client = Client(HTTP_HOST=f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}")
        client.force_login(owner)
        client.get("/analytics/events/")  # warm
        # For scale: a data-table page of the shell with nothing much in it.
        report("analytics_baseline_page_ms", _timed(client, "/notifications/"), "ms")
        report("analytics_events_page_ms", _timed(client, "/analytics/events/"), "ms")
        report("analytics_events_filtered_ms", _timed(client, "/analytics/events/?property=plan%3Dteam"), "ms")
        report("analytics_persons_page_ms", _timed(client, "/analytics/persons/"), "ms")
        report("analytics_person_page_ms", _timed(client, f"/analytics/persons/{person.uuid}/"), "ms")
    finally:
        tenant_delete(tenant=tenant)
