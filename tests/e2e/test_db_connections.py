"""The ASGI server's PostgreSQL connections: at most its pool, whatever the traffic.

Each test starts the real uvicorn the way scripts/serve.py and the Dockerfile do, with the
database settings users run (the pool of config.settings.base), names its connections with an
application_name, and counts them in pg_stat_activity. Under the ASGI server every request runs in
a thread of its own; connections kept per thread (CONN_MAX_AGE=60 without a pool) would stay open
after their request, one per request, until garbage collection, and anonymous requests to unknown
hosts would be enough to exhaust PostgreSQL's max_connections.
"""

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from apps.api.services import api_key_create
from apps.identity.models import Membership
from apps.tenancy.services import tenant_delete
from tests.conftest import provision_afresh, subprocess_env
from tests.e2e import probes
from tests.processes import celery_worker, free_port, uvicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
# The Dockerfile's flags (tests.processes.uvicorn adds host, port and --lifespan off).
DOCKERFILE_FLAGS = ("--proxy-headers", "--ws-per-message-deflate", "false", "--no-access-log")


def _watcher() -> psycopg.Connection:
    db = connection.settings_dict
    params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
    return psycopg.connect(dbname=db["NAME"], autocommit=True, **{k: v for k, v in params.items() if v})


def _count(watcher, application_name: str, query_like: str = "%") -> int:
    return watcher.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND query LIKE %s",
        [application_name, query_like],
    ).fetchone()[0]


@contextmanager
def hub(**env):
    """A uvicorn process (as in the Dockerfile) on the test database; yields (port, application_name)."""
    port = free_port()
    name = f"hub-test-{uuid.uuid4().hex[:8]}"
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="tests.e2e.probe_settings",
        DATABASE_APPLICATION_NAME=name,
        HUB_BASE_DOMAIN=f"localhost:{port}",
        DJANGO_ALLOWED_HOSTS="localhost,.localhost",
        **env,
    )
    env.pop("WEB_CONCURRENCY", None)  # one process: the bound is per process
    with uvicorn(port, env, *DOCKERFILE_FLAGS, timeout=60):
        yield port, name


class Peak(threading.Thread):
    """Samples how many connections the server holds, every 20 ms, until stopped."""

    def __init__(self, application_name: str):
        super().__init__(daemon=True)
        self.name_ = application_name
        self.peak = 0
        self.samples = 0
        self.done = threading.Event()

    def run(self):
        with _watcher() as watcher:
            while not self.done.wait(0.02):
                self.peak = max(self.peak, _count(watcher, self.name_))
                self.samples += 1

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()


@pytest.fixture(scope="module")
def busy_tenant(django_db_setup, django_db_blocker):
    """A tenant of its own (its writes vanish with it) and an API key that reads and writes."""
    with django_db_blocker.unblock():
        tenant, owner = provision_afresh("conns")
        actor = Membership.objects.select_related("user", "tenant").get(user=owner, tenant=tenant)
        with schema_context(tenant.schema_name):
            _, key = api_key_create(actor=actor, name="load", scopes=["tenancy:write", "identity:read"])
        try:
            yield tenant, key
        finally:
            tenant_delete(tenant=tenant)
            from config.celery import app

            app.control.purge()  # the outbox tasks its renames queued


def test_the_asgi_server_holds_no_more_connections_than_its_pool(busy_tenant):
    """240 requests, 48 at a time: anonymous ones to unknown hosts and API calls that read and write."""
    bound = settings.DATABASE_POOL_MAX_SIZE
    assert bound > 0, "the pool is off in this environment (DATABASE_POOL_MAX_SIZE=0)"
    tenant, key = busy_tenant
    with hub() as (port, name), Peak(name) as peak:
        api = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

        def call(i):
            if i % 2:
                return "unknown", *probes.get(port, f"nobody-{i}.localhost", "/")[:2]
            host = f"{tenant.slug}.localhost"
            if i % 4:
                return "read", *probes.get(port, host, "/api/v1/members/", headers=api)[:2]
            body = json.dumps({"name": f"Conns {i}"}).encode()
            return "write", *probes.get(port, host, "/api/v1/tenant/", method="PATCH", body=body, headers=api)[:2]

        with ThreadPoolExecutor(max_workers=48) as pool:
            results = list(pool.map(call, range(240)))
        during = peak.peak
        time.sleep(0.5)
        with _watcher() as watcher:
            after = _count(watcher, name)

    expected = {"unknown": 404, "read": 200, "write": 200}
    wrong = [(kind, status, body[:200]) for kind, status, body in results if status != expected[kind]]
    assert wrong == []
    assert peak.samples > 10 and during >= 1, "the sampler never saw the server's connections"
    assert during <= bound, f"{during} connections at once, more than the pool's {bound}"
    assert after <= bound


def test_a_request_that_gets_no_connection_in_time_is_answered_503(sessions):
    """One pooled connection, held by a slow request: the others wait DATABASE_POOL_TIMEOUT and get a
    503 (problem+json under /api/) with Retry-After, then are served again once it is free."""
    _, session = sessions["alpha"]
    with hub(DATABASE_POOL_MAX_SIZE="1", DATABASE_POOL_MIN_SIZE="1", DATABASE_POOL_TIMEOUT="0.5") as (port, name):
        host = "alpha.localhost"
        assert probes.get(port, host, "/api/v1/tenant/", session)[0] == 200
        with ThreadPoolExecutor(max_workers=1) as pool, _watcher() as watcher:
            held = pool.submit(probes.get, port, host, "/_probe/hold/?seconds=4", session)
            deadline = time.monotonic() + 10
            while not _count(watcher, name, "%pg_sleep%"):
                assert time.monotonic() < deadline and not held.done(), "the slow request never took the connection"
                time.sleep(0.05)

            started = time.monotonic()
            status, body, headers = probes.get(port, host, "/api/v1/tenant/", session)
            waited = time.monotonic() - started
            assert (status, headers["Content-Type"], headers["Retry-After"]) == (503, "application/problem+json", "1")
            assert json.loads(body) == {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "The service is busy. Try again in a moment.",
                "code": "busy",
            }
            assert waited < 3, "the request waited for the slow one instead of giving up"

            status, body, headers = probes.get(port, host, "/members/", session)
            assert (status, headers["Retry-After"]) == (503, "1")
            assert headers["Content-Type"].startswith("text/html") and "busy" in body

            assert probes.get(port, "nobody.localhost", "/")[0] == 503  # looking the host up needs the database

            assert held.result()[0] == 200
        assert probes.get(port, host, "/api/v1/tenant/", session)[0] == 200


def test_pooled_connections_never_carry_a_tenant_to_the_next_request(sessions):
    """Two pooled connections serve alpha's and beta's requests, shuffled, 8 at a time: each request
    runs in its own tenant's schema and sees only its rows, though the same connections serve both
    (django-tenants sets the search_path only when it thinks it changed: TENANT_LIMIT_SET_CALLS)."""
    with hub(DATABASE_POOL_MAX_SIZE="2") as (port, _):
        results = probes.interleaved_traffic(port, sessions, 200, at_once=8)

    pids = probes.served_by(results, sessions)
    assert len(pids["alpha"] | pids["beta"]) <= 2
    assert pids["alpha"] & pids["beta"], "the tenants never shared a connection: the test proves nothing"


def test_a_prefork_worker_child_holds_one_connection_at_most(_session_tenants):
    """Celery closes a prefork child's connection, and its pool, around every task: with a pool each
    task would open min_size connections and more. The children use one plain connection each."""
    from apps.events.tasks import sweep_all_tenants

    name = f"hub-test-{uuid.uuid4().hex[:8]}"
    env = subprocess_env(DATABASE_APPLICATION_NAME=name)
    with celery_worker(env, processes=2), Peak(name) as peak:
        results = [sweep_all_tenants.delay() for _ in range(20)]  # each reads the tenants, then fans out
        for result in results:
            result.get(timeout=30)
        time.sleep(1)  # the fanned-out sweeps
    assert 1 <= peak.peak <= 2, f"{peak.peak} connections for 2 worker processes"
