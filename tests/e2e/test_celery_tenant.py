"""A real Celery worker runs each task in the schema of the tenant that enqueued it."""

import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django_tenants.utils import schema_context, tenant_context

from apps.tenancy.tasks import current_schema
from config.celery import app
from tests.conftest import subprocess_env

pytestmark = pytest.mark.e2e
ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def celery_worker(_session_tenants):
    assert not app.conf.task_always_eager, "CELERY_TASK_ALWAYS_EAGER is on: these tests would not reach a worker"
    app.control.purge()  # leftovers of an interrupted run
    log = tempfile.NamedTemporaryFile(prefix="hub-celery-", suffix=".log", delete=False)
    worker = subprocess.Popen(
        [
            ROOT / ".venv/bin/celery",
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-l",
            "info",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{Path(log.name).read_text()[-3000:]}")
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
        Path(log.name).unlink()


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
