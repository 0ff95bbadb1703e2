"""cache_db_queries: the database load of the dashboard's home page with the cached selectors
(apps.core.caching) on vs off.

One tenant whose owner has 30 notifications (10 unread) and 40 events in the activity feed; the
owner's home page (`/`, logged in: the bell's counts, the activity widget, the getting-started
checklist) is requested by wrk -t2 -c32 from two ASGI servers side by side (uvicorn as the
Dockerfile runs it, WORKERS processes), identical but for HUB_SELECTOR_CACHE_ENABLED. Each server
counts its SQL statements (hub_db_queries_total, read from its /metrics: every worker process
writes to its own PROMETHEUS_MULTIPROC_DIR), so the figure is statements per request, measured,
not estimated. The servers are measured alternately, ROUNDS runs each; figures are medians.

Prints cache_db_queries_on / cache_db_queries_off (statements per request),
cache_db_queries_ratio (on ÷ off), cache_home_p95_ms_on / _off and cache_home_rps_on / _off.
"""

import os
import re
import shutil
import tempfile
from contextlib import ExitStack, contextmanager
from importlib import import_module

from bench.api import wrk
from bench.common import asgi_server, http_get, log, median, report
from bench.routing import WORKERS

SLUG = "bench-cache"
PATH = "/"
ROUNDS = int(os.environ.get("BENCH_CACHE_ROUNDS", "3"))
DURATION = os.environ.get("BENCH_CACHE_DURATION", "10s")
WARMUP = "3s"


@contextmanager
def home_tenant():
    """A tenant with an owner, notifications and events; yields (tenant, the owner's session cookie)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.events.models import Event
    from apps.identity.models import Membership, User
    from apps.notifications.models import Notification
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_create, tenant_delete

    old = Tenant.objects.filter(slug=SLUG).first()
    if old is not None:
        tenant_delete(tenant=old)
    tenant = tenant_create(name="Bench Cache", slug=SLUG, plan="team")
    email = "owner@bench-cache.example.com"
    owner = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password=None)
    Membership.objects.create(user=owner, tenant=tenant, role="owner")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    try:
        with schema_context(tenant.schema_name):
            now = timezone.now()
            Event.objects.bulk_create(
                Event(
                    type="organisation.settings_changed",
                    payload={"changes": {"name": {"old": f"A{i}", "new": f"B{i}"}}},
                    actor_id=owner.pk,
                    occurred_at=now,
                    dispatched_at=now,
                )
                for i in range(40)
            )
            Notification.objects.bulk_create(
                Notification(
                    user=owner, event_type="member.joined", title=f"Member {i} joined", read_at=None if i < 10 else now
                )
                for i in range(30)
            )
        session[SESSION_KEY] = str(owner.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
        session.create()
        yield tenant, f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    finally:
        session.delete()
        tenant_delete(tenant=tenant)


def db_queries(port: int, host: str) -> float:
    """The server's SQL statements so far (every worker process), from its /metrics."""
    status, text = http_get(port, host, "/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics gave {status}")
    found = re.search(r'^hub_db_queries_total\{outcome="ok"\} ([\d.e+]+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def cache_db_queries():
    from django.conf import settings

    host = f"{SLUG}.{settings.HUB_BASE_HOSTNAME}"
    directories = {name: tempfile.mkdtemp(prefix=f"hub-bench-cache-{name}-") for name in ("on", "off")}
    try:
        with ExitStack() as stack:
            tenant, cookie = stack.enter_context(home_tenant())
            servers = {}
            for name, directory in directories.items():
                env = {
                    "HUB_SELECTOR_CACHE_ENABLED": "true" if name == "on" else "false",
                    "HUB_METRICS_ENABLED": "true",
                    "PROMETHEUS_MULTIPROC_DIR": directory,
                }
                proc, port = stack.enter_context(
                    asgi_server("bench.settings", workers=WORKERS, ready_host=host, ready_path="/healthz/live", env=env)
                )
                status, body = http_get(port, host, PATH, {"Cookie": cookie})
                if status != 200 or "Notifications: 10 unread" not in body:
                    raise RuntimeError(f"cache {name}: {PATH} gave {status} {body[:300]!r}")
                servers[name] = port
            for port in servers.values():
                wrk(port, host, PATH, None, WARMUP, {"Cookie": cookie})  # imports, connections, and the cache filled
            results = {name: [] for name in servers}
            for r in range(ROUNDS):
                for name in list(servers) if r % 2 == 0 else reversed(list(servers)):
                    port = servers[name]
                    before = db_queries(port, host)
                    rps, p95, requests = wrk(port, host, PATH, None, DURATION, {"Cookie": cookie})
                    # (the scrapes' own few statements are in the count: thousands of requests dwarf them)
                    per_request = (db_queries(port, host) - before) / requests
                    results[name].append((per_request, p95, rps))
                    log(
                        f"cache round {r + 1}/{ROUNDS}: {name} {per_request:.2f} queries/request,"
                        f" p95 {p95:.1f} ms, {rps:.0f} req/s"
                    )
    finally:
        for directory in directories.values():
            shutil.rmtree(directory, ignore_errors=True)
    figures = {name: [median([row[i] for row in rows]) for i in range(3)] for name, rows in results.items()}
    for name in ("on", "off"):
        report(f"cache_db_queries_{name}", figures[name][0], "queries/request", 2)
    report("cache_db_queries_ratio", figures["on"][0] / figures["off"][0], "ratio", 3)
    for name in ("on", "off"):
        report(f"cache_home_p95_ms_{name}", figures[name][1], "ms")
        report(f"cache_home_rps_{name}", figures[name][2], "req/s", 0)
