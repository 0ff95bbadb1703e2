"""The official posthog-python SDK, unchanged, pointed at a tenant's host served by uvicorn:
capture, identify, set/set_once and alias arrive as rows and persons."""

import socket
import uuid

import posthog
import pytest
from django_tenants.utils import schema_context

from apps.analytics import selectors
from apps.analytics.models import ProjectKey
from tests.conftest import committed, subprocess_env
from tests.processes import free_port, uvicorn

from .conftest import project_key, stored, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def localhost_subdomains(monkeypatch):
    """*.localhost resolves to 127.0.0.1, as browsers and systemd-resolved do (this machine's
    resolver does not)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def live_tenant_key(tenant_a):
    """A committed project key of tenant A (the server runs in another process)."""
    key, raw = committed(lambda: project_key(tenant_a, name="sdk"))
    yield raw
    committed(lambda: _delete_key(tenant_a, key.pk))


def _delete_key(tenant, pk):
    with schema_context(tenant.schema_name):
        ProjectKey.objects.filter(pk=pk).delete()


def test_posthog_python_capture_identify_set_and_alias(tenant_a, live_tenant_key, localhost_subdomains):
    port = free_port()
    env = subprocess_env(HUB_BASE_DOMAIN=f"localhost:{port}", DJANGO_ALLOWED_HOSTS="localhost,.localhost")
    with uvicorn(port, env):
        errors = []
        client = posthog.Posthog(
            live_tenant_key,
            host=f"http://{tenant_a.slug}.localhost:{port}",
            sync_mode=True,
            gzip=True,
            enable_local_evaluation=False,
            on_error=lambda error, batch: errors.append(error),
        )
        event_uuid = str(uuid.uuid4())
        client.capture("signed_up", distinct_id="anon-42", properties={"plan": "team"}, uuid=event_uuid)
        client.set_once(distinct_id="anon-42", properties={"first_seen": "today"})
        # identify, as posthog-js sends it (the Python SDK builds it with capture)
        client.capture(
            "$identify",
            distinct_id="user-42",
            properties={"$anon_distinct_id": "anon-42", "$set": {"email": "jo@alpha.test"}},
        )
        client.set(distinct_id="user-42", properties={"plan": "team"})
        client.alias(previous_id="user-42", distinct_id="jo@alpha.test")
        client.capture("signed_up", distinct_id="anon-42", uuid=event_uuid)  # a re-send
        client.shutdown()
    assert errors == []
    write(tenant_a)
    rows = stored(tenant_a)
    assert sorted(r.event for r in rows) == ["$create_alias", "$identify", "$set", "$set_once", "signed_up"]
    [signed_up] = [r for r in rows if r.event == "signed_up"]
    assert str(signed_up.uuid) == event_uuid
    assert signed_up.properties["plan"] == "team" and signed_up.properties["$lib"] == "posthog-python"
    with schema_context(tenant_a.schema_name):
        person = selectors.person_of("anon-42")
        assert sorted(person.distinct_ids.values_list("distinct_id", flat=True)) == [
            "anon-42",
            "jo@alpha.test",
            "user-42",
        ]
        assert person.properties == {"first_seen": "today", "email": "jo@alpha.test", "plan": "team"}
