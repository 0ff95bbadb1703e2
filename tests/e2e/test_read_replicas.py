"""Read replicas against a real streaming replica (apps.core.replicas).

The tests start their own PostgreSQL 15 primary on a spare port, fill it with a copy of the test
database (the session's tenants alpha and beta), make a streaming replica of it with
`pg_basebackup -R`, and serve the hub with uvicorn on the pair (DATABASE_URL on the primary,
DATABASE_REPLICA_URLS on the replica). Replica lag is made on purpose: the replica's replay is
paused (pg_wal_replay_pause()) while alpha's owner adds a webhook endpoint.
"""

import json
import secrets
import time
import uuid
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django_tenants.utils import schema_context

from apps.identity.models import Membership
from apps.identity.roles import Role
from apps.tenancy.models import Tenant
from tests.conftest import owner_of, subprocess_env
from tests.e2e import probes
from tests.factories import UserFactory
from tests.pgcluster import StreamingPair, copy_database
from tests.processes import free_port, uvicorn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

PIN_SECONDS = 3
CSRF = secrets.token_hex(16)  # a 32-character secret: Django accepts it unmasked in the header


def _session_of(user) -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


@pytest.fixture(scope="module")
def people(_session_tenants, django_db_blocker):
    """alpha's owner, an admin of alpha and beta's owner, each with a session, committed (and so copied)."""
    with django_db_blocker.unblock():
        alpha = Tenant.objects.get(pk=_session_tenants["alpha"])
        owner = owner_of(alpha)
        reader = UserFactory(email=f"reader-{uuid.uuid4().hex[:6]}@alpha.example.com")
        Membership.objects.create(tenant=alpha, user=reader, role=Role.ADMIN)
        beta_owner = owner_of(Tenant.objects.get(pk=_session_tenants["beta"]))
        yield {"writer": _session_of(owner), "reader": _session_of(reader), "beta": _session_of(beta_owner)}
        with schema_context(alpha.schema_name):  # its rows in the tenant's tables go with it
            reader.delete()


@pytest.fixture(scope="module")
def pair(people):
    """The primary (a copy of the test database, named hub) and its streaming replica."""
    source = dict(connection.settings_dict)
    made = StreamingPair().start(load=lambda primary: copy_database(source, primary, "hub"))
    yield made
    made.stop()


@pytest.fixture(scope="module")
def hub(pair):
    port = free_port()
    env = subprocess_env(
        DATABASE_URL=pair.primary.url("hub"),
        DATABASE_NAME="hub",
        DATABASE_REPLICA_URLS=pair.replica.url("hub"),
        HUB_DATABASE_REPLICA_PIN_SECONDS=str(PIN_SECONDS),
        HUB_BASE_DOMAIN=f"localhost:{port}",
        DJANGO_ALLOWED_HOSTS="localhost,.localhost",
    )
    with uvicorn(port, env, "--no-access-log", timeout=60):
        yield port


def call(port, session, path, *, method="GET", data=None, host="alpha.localhost"):
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={CSRF}"}
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers.update({"Content-Type": "application/json", "X-CSRFToken": CSRF})
    status, text, _ = probes.get(port, host, path, method=method, body=body, headers=headers)
    return status, (json.loads(text) if text.startswith(("{", "[")) else text)


def urls_seen(port, session, host="alpha.localhost") -> set[str]:
    status, body = call(port, session, "/api/v1/notifications/webhooks/", host=host)
    assert status == 200, body
    return {endpoint["url"] for endpoint in body["results"]}


def wait_until(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_writer_reads_the_primary_while_others_read_the_lagging_replica(pair, hub, people):
    url = f"http://127.0.0.1:9/hooks/{uuid.uuid4().hex[:8]}"
    pair.caught_up()
    pair.pause()
    try:
        status, body = call(hub, people["writer"], "/api/v1/notifications/webhooks/", method="POST", data={"url": url})
        assert status == 201, body  # the write went to the primary (the replica is read-only)

        # Read-your-writes: the writer is pinned to the primary and sees the new endpoint at once.
        assert url in urls_seen(hub, people["writer"])
        # Another member's safe request reads the replica, which has not replayed the write yet:
        # the tenant's schema is set on the replica's connection (webhook endpoints are tenant rows).
        assert url not in urls_seen(hub, people["reader"])

        # The pin runs out: the writer, too, reads the (still paused) replica.
        wait_until(lambda: url not in urls_seen(hub, people["writer"]), timeout=PIN_SECONDS + 5)
    finally:
        pair.resume()
    # Once replay goes on, everyone sees it.
    wait_until(lambda: url in urls_seen(hub, people["reader"]))


def test_the_replica_keeps_each_tenant_in_its_own_schema(pair, hub, people):
    """A safe request on the replica reads its own tenant's rows: the reader of alpha gets alpha's
    tenant record, not the public schema's nor beta's."""
    pair.caught_up()
    status, body = call(hub, people["reader"], "/api/v1/tenant/")
    assert status == 200, body
    assert body["slug"] == "alpha"


def test_the_replicas_connections_follow_each_requests_tenant(pair, hub, people):
    """alpha's and beta's safe requests, interleaved, are served by the same replica connections
    (one thread runs the sync views): each lists only its own tenant's webhook endpoints."""
    mark = uuid.uuid4().hex[:8]
    for host, who in (("alpha.localhost", "writer"), ("beta.localhost", "beta")):
        status, body = call(
            hub, people[who], "/api/v1/notifications/webhooks/", method="POST",
            data={"url": f"http://127.0.0.1:9/{host.split('.')[0]}/{mark}"}, host=host,
        )  # fmt: skip
        assert status == 201, body
    pair.caught_up()
    time.sleep(PIN_SECONDS)  # the writers' pins run out: everyone reads the replica
    for _ in range(10):
        alpha = {u for u in urls_seen(hub, people["reader"]) if u.endswith(mark)}
        beta = {u for u in urls_seen(hub, people["beta"], host="beta.localhost") if u.endswith(mark)}
        assert alpha == {f"http://127.0.0.1:9/alpha/{mark}"}
        assert beta == {f"http://127.0.0.1:9/beta/{mark}"}
