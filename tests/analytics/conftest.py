"""Analytics fixtures: project keys, a capture client, the writer run by hand, the stored rows."""

import json
import shutil

import pytest
from django.test import Client
from django.utils import timezone
from django_redis import get_redis_connection
from django_tenants.utils import schema_context

from apps.analytics import keys, services, stores
from apps.analytics.models import Event
from tests.conftest import host_of

_started = {"at": None}


@pytest.fixture(autouse=True)
def _empty_queues():
    """Each test starts with no queued analytics events, claims or cached keys; it looks only at
    the events received since it started (tests with live processes commit theirs)."""
    client = get_redis_connection("default")
    _started["at"] = timezone.now()

    def clear():
        for name in client.scan_iter(match="hub:analytics:*", count=500):
            client.delete(name)
        keys.forget()

    clear()
    yield
    clear()


def project_key(tenant, *, name="site", origins=()):
    """A project key of `tenant`: (ProjectKey, raw key)."""
    with schema_context(tenant.schema_name):
        return services.project_key_create(tenant=tenant, actor=None, name=name, allowed_origins=list(origins))


def host_client(tenant) -> Client:
    return Client(HTTP_HOST=host_of(tenant))


def post_json(client, path, body, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def write(tenant) -> int:
    """Runs the writer in `tenant`'s schema, as its task would; returns the events written."""
    with schema_context(tenant.schema_name):
        return services.events_write_queued()


def stored(tenant, **filters) -> list[Event]:
    with schema_context(tenant.schema_name):
        if not services.storage.event_table_exists():
            return []
        rows = Event.objects.filter(received_at__gte=_started["at"], **filters)
        return list(rows.order_by("timestamp", "uuid"))


@pytest.fixture(scope="session", autouse=True)
def _embedded_clickhouse_removed():
    """The test process's chDB directory (config/settings/test.py) goes when the session ends."""
    yield
    from apps.analytics.stores import chclient

    target = chclient.url()
    made = chclient._clients.pop(target, None)
    if made is not None and isinstance(made, chclient.ChdbClient) and "hub-test-chdb-" in target:
        made.close()
        shutil.rmtree(made.path, ignore_errors=True)


@pytest.fixture(params=[stores.POSTGRES, stores.CLICKHOUSE])
def engine(request, tenant_a):
    """Each event store in turn, for tenant_a: the query tests run on both."""
    return stores.store_named(request.param, tenant_a.schema_name)


@pytest.fixture
def key_a(tenant_a):
    return project_key(tenant_a)
