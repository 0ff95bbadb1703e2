"""Durable workflow runs with real processes: a run goes through a real Celery worker step by
step; the worker is killed (SIGKILL) in the middle of a step; a second worker with beat resumes
the run from that step, without repeating the steps that were done. Also: an event published
and dispatched by the worker starts a workflow and runs it to the end."""

import os
import signal
import tempfile
import time
from pathlib import Path

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.workflow import services
from apps.workflow.models import StepRun, Workflow, WorkflowRun
from config.celery import app
from tests.conftest import committed
from tests.e2e.test_event_reliability import start_worker, stop
from tests.notifications.receiver import Receiver

pytestmark = pytest.mark.e2e
FAST = {"HUB_WORKFLOW_LEASE_GRACE_SECONDS": "1", "HUB_WORKFLOW_RECOVERY_SECONDS": "1"}


def _wait_for(check, timeout, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = committed(check)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not done in {timeout} s\n" + Path(log.name).read_text()[-4000:])


def _ready(worker, timeout=120):
    """Waits until the worker answers a ping (a busy machine takes a while to start one)."""
    deadline = time.monotonic() + timeout
    while not app.control.ping(timeout=1):
        assert worker.poll() is None and time.monotonic() < deadline, "the worker did not start"


@pytest.fixture(autouse=True)
def _no_workflow_left(tenant_a):
    """The workflows a test committed are deleted after it, passed or not (an event-started one
    left behind would start runs in later tests)."""
    yield

    def work():
        with tenant_context(tenant_a):
            WorkflowRun.objects.all().delete()
            Workflow.objects.all().delete()

    committed(work)


@pytest.mark.django_db(transaction=False)
def test_a_worker_killed_mid_step_resumes_the_run_without_repeating_done_steps(tenant_a):
    assert not app.conf.task_always_eager
    app.control.purge()
    log = tempfile.NamedTemporaryFile(prefix="hub-workflow-", suffix=".log", delete=False)
    workers = []
    with Receiver() as receiver:
        receiver.default = (200, {}, b'{"ok": true}', 0)

        def setup():
            graph = {
                "trigger": {"type": "manual"},
                "nodes": [
                    {
                        "id": "first",
                        "type": "workflow.http",
                        "parameters": {"method": "POST", "url": receiver.url("/first")},
                    },
                    {
                        "id": "slow",
                        "type": "workflow.http",
                        "parameters": {"method": "POST", "url": receiver.url("/slow"), "timeout": 4},
                    },
                    {"id": "last", "type": "set", "parameters": {"values": {"done": True}}},
                ],
                "edges": [
                    {"from": "first", "port": "out", "to": "slow"},
                    {"from": "slow", "port": "out", "to": "last"},
                ],
            }
            with tenant_context(tenant_a):
                workflow = services.workflow_create(tenant=tenant_a, name="Durable", graph=graph, publish_now=True)
                with transaction.atomic():  # the commit sends the first step's task
                    run = services.run_manual(tenant=tenant_a, workflow=workflow)
                return workflow.pk, run.pk

        try:
            first = start_worker(log, "-P", "prefork", "-c", "1", env=FAST)
            workers.append(first)
            _ready(first)  # the worker is up before the run starts
            receiver.answer(200, {}, b'{"ok": true}', 0)  # /first
            receiver.answer(200, {}, b"slow", 3.0)  # /slow: in flight when the worker dies
            workflow_id, run_id = committed(setup)
            receiver.wait_for(2, timeout=90)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()

            def state():
                with tenant_context(tenant_a):
                    return {s.node_id: (s.status, s.attempts) for s in StepRun.objects.filter(run_id=run_id)}

            assert committed(state) == {"first": ("succeeded", 1), "slow": ("running", 1)}, "killed at the wrong time"

            schedule = Path(tempfile.mkdtemp()) / "beat-schedule"
            second = start_worker(log, "-P", "prefork", "-c", "1", "-B", "-s", str(schedule), env=FAST)
            workers.append(second)

            def finished():
                with tenant_context(tenant_a):
                    run = WorkflowRun.objects.get(pk=run_id)
                    return run if run.status not in WorkflowRun.ACTIVE else None

            run = _wait_for(finished, 120, log)
        finally:
            for worker in workers:
                stop(worker)

        assert run.status == "succeeded", run.error
        assert committed(state) == {"first": ("succeeded", 1), "slow": ("succeeded", 2), "last": ("succeeded", 1)}
        paths = [r.path for r in receiver.requests]
        assert paths.count("/first") == 1  # the step done before the kill was not repeated
        assert paths.count("/slow") == 2  # the step cut short ran again, with the same idempotency key
        slow = [r for r in receiver.requests if r.path == "/slow"]
        assert slow[0].headers["idempotency-key"] == slow[1].headers["idempotency-key"]
    log.close()
    Path(log.name).unlink()


@pytest.mark.django_db(transaction=False)
def test_an_event_starts_a_workflow_through_the_worker(tenant_a):
    app.control.purge()
    log = tempfile.NamedTemporaryFile(prefix="hub-workflow-", suffix=".log", delete=False)

    def setup():
        graph = {
            "trigger": {
                "type": "event",
                "event_type": "organisation.settings_changed",
                "conditions": {"attr": "name", "op": "changed"},
            },
            "nodes": [
                {
                    "id": "each",
                    "type": "loop",
                    "parameters": {"items": "[trigger.changes.name.old, trigger.changes.name.new]"},
                },
                {"id": "shout", "type": "transform", "parameters": {"expression": "item"}},
                {
                    "id": "tell",
                    "type": "workflow.notify",
                    "parameters": {"role": "owner", "title": "Renamed to {{ trigger.changes.name.new }}"},
                },
            ],
            "edges": [{"from": "each", "port": "item", "to": "shout"}, {"from": "each", "port": "done", "to": "tell"}],
        }
        with tenant_context(tenant_a):
            workflow = services.workflow_create(tenant=tenant_a, name="On rename", graph=graph, publish_now=True)
            with transaction.atomic():
                publish(
                    "organisation.settings_changed", {"changes": {"name": {"old": "A", "new": "B"}}}, tenant=tenant_a
                )
            return workflow.pk

    worker = start_worker(log, "-P", "prefork", "-c", "2")
    try:
        _ready(worker)
        workflow_id = committed(setup)

        def finished():
            with tenant_context(tenant_a):
                run = WorkflowRun.objects.filter(workflow_id=workflow_id).first()
                return run if run is not None and run.status not in WorkflowRun.ACTIVE else None

        run = _wait_for(finished, 120, log)
    finally:
        stop(worker)

    def outputs():
        with tenant_context(tenant_a):
            return {(s.node_id, s.scope): s.output for s in StepRun.objects.filter(run=run)}

    assert run.status == "succeeded", run.error
    out = committed(outputs)
    assert out[("shout", "each[0]")] == "A" and out[("shout", "each[1]")] == "B"
    assert out[("each", "")]["results"] == ["A", "B"]
    log.close()
    Path(log.name).unlink()
