"""Integration fixtures: a fake service started per test, connections made through the service."""

import pytest
from django_tenants.utils import schema_context

from apps.integrations import services

from .fakes import fake_service


@pytest.fixture
def fake():
    with fake_service() as service:
        yield service


def make_connection(tenant, *, name="Service", connector="http", auth_type="bearer", secrets=None, **fields):
    if secrets is None:
        secrets = {"token": "t0ken"} if auth_type == "bearer" else {}
    with schema_context(tenant.schema_name):
        return services.connection_create(
            tenant=tenant, name=name, connector=connector, auth_type=auth_type, secrets=secrets, **fields
        )


def run_node(tenant, key, config):
    """Runs the workflow node `key` as the workflow engine does: in the tenant's schema."""
    from django_tenants.utils import tenant_context

    from apps.core.registry import registry

    with tenant_context(tenant):
        return registry["workflow_nodes"][key].run(config=config, context={"run": "data the action ignores"})
