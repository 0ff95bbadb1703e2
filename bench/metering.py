"""metering_events_per_s: usage records ingested by billing's collection (the hourly Celery task
`billing.usage_collect`, apps.billing.tasks.usage_collect_all, called in this process) over
BENCH_METERING_TENANTS tenants (default 40, `meter-NNNN`, made once and kept between runs, like
bench/scale.py's) whose sources hold today's usage: BENCH_METERING_EVENTS analytics events each
(written by the analytics writer's COPY path) and BENCH_METERING_CALLS API-key calls each (counted
by the API metering into Redis), plus their members, files and workflow runs as made.

Each of BENCH_METERING_ROUNDS rounds (default 3) runs the whole collection once; its figure is
the UsageRecord rows it wrote (counted in the table: collected_at at or after the round's start,
one per tenant, day and quantity) divided by its wall time. Collection is an upsert keyed by the
day, so every round rewrites the same rows: what a retried task does. Figures: the median
metering_events_per_s (records/s) and metering_tenants_per_s, every round in the log.
"""

import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.common import log, median, report

TENANTS = int(os.environ.get("BENCH_METERING_TENANTS", "40"))
EVENTS = int(os.environ.get("BENCH_METERING_EVENTS", "5000"))
CALLS = int(os.environ.get("BENCH_METERING_CALLS", "2000"))
ROUNDS = int(os.environ.get("BENCH_METERING_ROUNDS", "3"))
PREFIX = "meter-"
OWNER = "meter-owner@bench.example.com"


def _tenants() -> list:
    from apps.identity.models import User
    from apps.identity.services import organisation_provision
    from apps.tenancy.models import Tenant

    owner = User.objects.filter(email=OWNER).first() or User.objects.create_user(email=OWNER, password=None)
    existing = set(Tenant.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True))
    missing = [f"{PREFIX}{i:04d}" for i in range(TENANTS) if f"{PREFIX}{i:04d}" not in existing]
    if missing:
        log(f"metering: creating {len(missing)} tenants ({len(existing)} exist)")
    for slug in missing:
        organisation_provision(name=f"Meter {slug}", slug=slug, owner=owner)
    return list(Tenant.objects.filter(slug__startswith=PREFIX).order_by("slug")[:TENANTS])


def _seed(tenant) -> None:
    """Today's analytics events and API calls of `tenant`, up to EVENTS and CALLS (idempotent)."""
    from django.db import transaction
    from django_tenants.utils import schema_context

    from apps.analytics.selectors import events_received_count
    from apps.analytics.storage import rows_write
    from apps.api.metering import meter
    from apps.api.selectors import api_calls_count
    from apps.billing import quotas

    today = quotas.today()
    since, until = quotas.day_bounds(today)
    with schema_context(tenant.schema_name):
        missing = EVENTS - events_received_count(since=since, until=until)
        now = datetime.now(UTC)
        if missing > 0:
            rows = [
                (now - timedelta(seconds=i % 3600), uuid.uuid4(), "$pageview" if i % 3 else "clicked",
                 f"person-{i % 200}", json.dumps({"i": i}), now)
                for i in range(missing)
            ]  # fmt: skip
            with transaction.atomic():
                rows_write(rows)
        calls = CALLS - api_calls_count(day=today)
    for _ in range(max(0, calls)):
        meter.hit(tenant=tenant, principal="key:1", key_id=1)
    meter.flush()


def metering_events_per_s():
    from apps.billing.models import Quantity, UsageRecord
    from apps.billing.tasks import usage_collect_all
    from apps.tenancy.models import Tenant

    tenants = _tenants()
    log(f"metering: seeding {len(tenants)} tenants with {EVENTS} events and {CALLS} API calls each (today)")
    for tenant in tenants:
        _seed(tenant)
    active = Tenant.objects.exclude(schema_name="public").filter(status=Tenant.Status.ACTIVE).count()
    rates, tenant_rates = [], []
    for r in range(ROUNDS):
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        collected = usage_collect_all()
        seconds = time.perf_counter() - started
        records = UsageRecord.objects.filter(collected_at__gte=started_at).count()
        rates.append(records / seconds)
        tenant_rates.append(collected / seconds)
        log(
            f"metering round {r + 1}/{ROUNDS}: {records} usage records ({collected} tenant-days of {active} active "
            f"tenants, {len(Quantity)} quantities) in {seconds:.2f} s: {records / seconds:.0f} records/s"
        )
    report("metering_events_per_s", median(rates), "records/s")
    report("metering_tenants_per_s", median(tenant_rates), "tenants/s")
