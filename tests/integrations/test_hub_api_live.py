"""The hub's own API as a connector: the bundled OpenAPI document's operations called on a live
hub (uvicorn, the test database) with an API key of one of its organisations — a flag created by
a workflow step, then listed, and a bad input refused before sending."""

import secrets
from urllib.parse import urlsplit

import pytest

from apps.identity.services import organisation_provision
from apps.integrations.errors import ConnectorError, InputError
from apps.tenancy.services import tenant_delete
from tests.api.conftest import make_key
from tests.browser.conftest import live_hub  # noqa: F401
from tests.conftest import PASSWORD

from .conftest import make_connection, run_node


@pytest.fixture(scope="module")
def remote(django_db_setup, django_db_blocker):
    """An organisation of the live hub (committed, so the hub's process sees it) and an API key."""
    slug = f"remote-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, _ = organisation_provision(
            name="Remote Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        _, raw = make_key(tenant, scope_list=["flags:write"])
        try:
            yield tenant, raw
        finally:
            tenant_delete(tenant=tenant)


@pytest.mark.django_db
def test_a_workflow_step_calls_the_hubs_own_api_on_a_live_hub(tenant_a, remote, live_hub):  # noqa: F811
    tenant, raw = remote
    port = urlsplit(live_hub).port
    conn = make_connection(
        tenant_a,
        name="Remote hub",
        connector="hub",
        auth_type="bearer",
        base_url=live_hub,
        settings={"headers": {"Host": f"{tenant.slug}.localhost:{port}"}},
        secrets={"token": raw},
    )
    created = run_node(tenant_a, "hub.flags_create", {"credential": conn.pk, "body": {"key": "from-a-workflow"}})
    assert created["key"] == "from-a-workflow" and created["version"] == 1
    listed = run_node(tenant_a, "hub.flags_list", {"credential": conn.pk})
    assert [f["key"] for f in listed["results"]] == ["from-a-workflow"]
    with pytest.raises(InputError) as error:
        run_node(tenant_a, "hub.flags_create", {"credential": conn.pk, "body": {"name": "no key"}})
    assert "body.key" in error.value.errors
    with pytest.raises(ConnectorError, match="403 Forbidden") as refused:  # the key's scope: flags only
        run_node(tenant_a, "hub.integrations_connections_list", {"credential": conn.pk})
    assert refused.value.retryable is False
