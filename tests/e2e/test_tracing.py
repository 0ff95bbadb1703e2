"""One trace from a request through a real Celery worker to the dashboards' websocket.

The test process serves a request (Django's test client) with tracing on and an in-memory
exporter; it renames the organisation through the API, which publishes an event to the outbox.
A real Celery worker, started with tracing on, dispatches it and exports its spans by OTLP/HTTP to
a receiver the test runs (as it would to Jaeger or a collector). The push reaches a websocket
open in the test process. Every part continues the request's trace: the worker's task, the
event's span (from the traceparent on the outbox row), its handlers, the websocket push, and the
delivery of that push to the socket; the worker's JSON log lines carry the same trace id."""

import asyncio
import json
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from apps.ops import tracing as ops_tracing
from config.celery import app
from tests.conftest import committed, subprocess_env
from tests.e2e.otlp import OtlpReceiver
from tests.processes import CELERY
from tests.websockets import logged_in, opened

pytestmark = pytest.mark.e2e
EVENT = "organisation.settings_changed"


@pytest.fixture(scope="module")
def collector():
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def worker(_session_tenants, collector):
    """A traced worker exporting to the collector; its JSON log lines go to a file the test reads."""
    app.control.purge()
    log = Path(tempfile.mkstemp(prefix="hub-traced-worker-", suffix=".log")[1])
    env = subprocess_env(
        HUB_TRACING_ENABLED="true",
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint,
        OTEL_SERVICE_NAME="hub-worker",
        OTEL_BSP_SCHEDULE_DELAY="100",  # export within 0.1 s (the default waits 5 s)
        HUB_LOG_FORMAT="json",
    )
    command = [CELERY, "-A", "config", "worker", "-P", "solo", "-l", "info"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(c) for c in command], cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        yield log
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.unlink()


@pytest.fixture(scope="module")
def web_spans():
    memory = InMemorySpanExporter()
    ops_tracing.setup(exporter=memory, service_name="hub-web")
    yield memory
    ops_tracing.shutdown()


def test_one_trace_spans_the_request_the_worker_and_the_websocket_push(tenant_a, owner_a, worker, collector, web_spans):
    client, cookie = logged_in(owner_a, "alpha.localhost")
    old_name = tenant_a.name

    async def rename_and_listen():
        ws = await opened("alpha.localhost", cookie)
        response = await asyncio.to_thread(
            committed,
            lambda: client.patch("/api/v1/tenant/", {"name": "Alpha Traced"}, content_type="application/json"),
        )
        assert response.status_code == 200, response.content
        while True:  # the owner may also hear of a notification first
            message = await ws.receive_json_from(timeout=20)
            if message["type"] == "event" and message["event"]["type"] == EVENT:
                break
        await ws.disconnect()
        return message

    try:
        message = asyncio.run(rename_and_listen())
    finally:
        committed(lambda: client.patch("/api/v1/tenant/", {"name": old_name}, content_type="application/json"))
    assert "traceparent" not in message  # the page gets the event, not the trace's plumbing

    [request] = [
        s for s in web_spans.get_finished_spans() if s.kind == SpanKind.SERVER and s.name.startswith("PATCH ")
    ][:1]
    trace = format(request.context.trace_id, "032x")
    assert request.attributes["hub.tenant"] == tenant_a.schema_name

    def dispatched(spans):
        # The push's span and the task run's around it: the run ends (and is exported) after the
        # push, possibly in a later batch of the worker's exporter.
        names = {s["name"] for s in spans if s["trace_id"] == trace}
        return {"ws push hub.event", "run/apps.events.tasks.dispatch_events"} <= names

    spans = [s for s in collector.wait_for(dispatched) if s["trace_id"] == trace]
    assert {s["service"] for s in spans} == {"hub-worker"}
    names = {s["name"] for s in spans}
    assert "run/apps.events.tasks.dispatch_events" in names  # Celery's span, from the task's headers
    assert f"event {EVENT}" in names  # from the outbox row's traceparent
    assert "handler live_event" in names
    assert any(name.startswith("db ") for name in names)  # the worker's SQL statements
    [event_span] = [s for s in spans if s["name"] == f"event {EVENT}"]
    [push] = [s for s in spans if s["name"] == "ws push hub.event"]
    assert push["parent_id"] == event_span["span_id"]

    # The push reached the socket in this process, which continued the trace once more.
    [delivered] = [s for s in web_spans.get_finished_spans() if s.name == "ws deliver hub.event"][-1:]
    assert format(delivered.context.trace_id, "032x") == trace
    assert format(delivered.parent.span_id, "016x") == push["span_id"]

    # The worker's log lines written for that work name the trace.
    lines = [json.loads(line) for line in worker.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("trace_id") == trace and line.get("task") for line in lines), lines[-5:]
