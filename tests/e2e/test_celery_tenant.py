"""A real Celery worker runs each task in the schema of the tenant that enqueued it."""

import pytest
from django_tenants.utils import schema_context, tenant_context

from apps.tenancy.tasks import current_schema
from tests.conftest import subprocess_env
from tests.processes import celery_worker

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def worker(_session_tenants):
    with celery_worker(subprocess_env()) as process:
        yield process


@pytest.mark.django_db
def test_task_runs_in_the_schema_of_the_tenant_that_enqueued_it(worker, tenant_a, tenant_b):
    for tenant, schema in [(tenant_a, "t_alpha"), (tenant_b, "t_beta"), (tenant_a, "t_alpha")]:
        with tenant_context(tenant):
            result = current_schema.delay()
        assert result.get(timeout=30) == schema


@pytest.mark.django_db
def test_task_enqueued_from_public_runs_in_public(worker, tenant_a):
    with tenant_context(tenant_a):
        current_schema.delay().get(timeout=30)  # leaves the worker's connection in t_alpha
    with schema_context("public"):
        result = current_schema.delay()
    assert result.get(timeout=30) == "public"
