"""A real Celery worker runs each task in the schema of the tenant that enqueued it."""

import sys
from pathlib import Path

import pytest
from django_tenants.utils import schema_context, tenant_context

from apps.tenancy.tasks import current_schema
from config.celery import app
from tests.conftest import subprocess_env
from tests.processes import running

pytestmark = pytest.mark.e2e
CELERY = Path(sys.executable).parent / "celery"


@pytest.fixture(scope="module")
def celery_worker(_session_tenants):
    assert not app.conf.task_always_eager, "CELERY_TASK_ALWAYS_EAGER is on: these tests would not reach a worker"
    app.control.purge()  # leftovers of an interrupted run
    command = [CELERY, "-A", "config", "worker", "-P", "solo", "-l", "info"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    ready = lambda: bool(app.control.ping(timeout=0.5))  # noqa: E731
    with running(command, env=subprocess_env(), ready=ready, what="the Celery worker") as worker:
        yield worker


@pytest.mark.django_db
def test_task_runs_in_the_schema_of_the_tenant_that_enqueued_it(celery_worker, tenant_a, tenant_b):
    for tenant, schema in [(tenant_a, "t_alpha"), (tenant_b, "t_beta"), (tenant_a, "t_alpha")]:
        with tenant_context(tenant):
            result = current_schema.delay()
        assert result.get(timeout=30) == schema


@pytest.mark.django_db
def test_task_enqueued_from_public_runs_in_public(celery_worker, tenant_a):
    with tenant_context(tenant_a):
        current_schema.delay().get(timeout=30)  # leaves the worker's connection in t_alpha
    with schema_context("public"):
        result = current_schema.delay()
    assert result.get(timeout=30) == "public"
