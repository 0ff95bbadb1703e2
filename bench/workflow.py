"""Workflow benchmarks.

rule_eval_us: one condition set of 10 clauses (NetBox's shape: nested and/or/not, attribute paths,
eq/ne/gt/lte/in/contains/regex/changed) against one event's payload, compiled once (as the event
handler keeps it per published version) and evaluated 200,000 times; the median of five passes,
in microseconds per evaluation. Also rule_compile_us (compiling the set) and rule_eval_baseline_us
(one lookup-and-compare lambda, the machine's speed for context). Target: < 50 µs.

workflow_runs_per_s: RUNS events published at once (each in its own transaction), each starting a
3-step workflow (condition → transform → set variables) through a real Celery worker (prefork,
WORKER_CONCURRENCY processes, production settings): the event's dispatch task creates the run; the
first step is a task, and the quick built-ins after it run in that task (HUB_WORKFLOW_INLINE_STEPS=1
in the environment measures one task per step, the engine before), each persisted before the next.
Runs finished per second, from the first publish to the last run's end.

trigger_latency_p95_ms: the same workflow, LATENCY_EVENTS events published at a steady rate the
worker keeps up with: LATENCY_LOAD (half) of the workflow_runs_per_s just measured, or
BENCH_WORKFLOW_LATENCY_RATE events a second when set; per event, from its outbox row (occurred_at,
written at publish) to its run's first step starting (started_at, as the worker claims it); the
p95. Target: < 200 ms. trigger_latency_saturated_p95_ms: the same at the full measured
throughput, where the p95 is mostly time in the queue (what the trigger adds is the figure above).
"""

import os
import time

from bench.common import fresh_tenant, log, median, percentile, report

RUNS = int(os.environ.get("BENCH_WORKFLOW_RUNS", 200))
LATENCY_EVENTS = int(os.environ.get("BENCH_WORKFLOW_LATENCY_EVENTS", 100))
LATENCY_RATE = os.environ.get("BENCH_WORKFLOW_LATENCY_RATE")  # events/s; unset: LATENCY_LOAD of the throughput
LATENCY_LOAD = 0.5
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKFLOW_WORKERS", 4))

TEN_CLAUSES = {
    "and": [
        {"attr": "document.status", "value": "published"},
        {"attr": "document.size", "op": "gt", "value": 1000},
        {"attr": "document.size", "op": "lte", "value": 50_000_000},
        {"attr": "document.mime_type", "op": "in", "value": ["application/pdf", "image/png", "text/plain"]},
        {"attr": "document.tags", "op": "contains", "value": "finance"},
        {"attr": "document.name", "op": "regex", "value": r"^Q[1-4] report"},
        {"or": [{"attr": "actor.role", "value": "admin"}, {"attr": "actor.role", "value": "owner"}]},
        {"not": {"attr": "document.folder", "value": "Trash"}},
        {"attr": "status", "op": "changed", "value": "published"},
        {"attr": "document.owner", "op": "ne", "value": None},
    ]
}
EVENT = {
    "document": {
        "status": "published",
        "size": 123_456,
        "mime_type": "application/pdf",
        "tags": ["finance", "q3", "board"],
        "name": "Q3 report 2026.pdf",
        "folder": "Reports",
        "owner": "ann@example.com",
    },
    "actor": {"role": "owner"},
    "changes": {"status": {"old": "draft", "new": "published"}},
}


def rule_eval_us():
    from apps.workflow.conditions import compile_condition

    assert sum(1 for c in TEN_CLAUSES["and"] for _ in (c.get("or") or [c])) >= 10
    started = time.perf_counter()
    for _ in range(1000):
        test = compile_condition(TEN_CLAUSES)
    report("rule_compile_us", (time.perf_counter() - started) / 1000 * 1e6, "us")
    assert test(EVENT) is True
    n, passes = 200_000, []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            test(EVENT)
        passes.append((time.perf_counter() - started) / n * 1e6)
    report("rule_eval_us", median(passes), "us", digits=2)
    # The machine's speed, for context: one attribute lookup and comparison, called the same way.
    data, baseline = {"a": {"b": 1}}, []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            (lambda d: d["a"]["b"] == 1)(data)
        baseline.append((time.perf_counter() - started) / n * 1e6)
    report("rule_eval_baseline_us", median(baseline), "us", digits=2)


GRAPH = {
    "trigger": {
        "type": "event",
        "event_type": "organisation.settings_changed",
        "conditions": {"attr": "name", "op": "changed"},
    },
    "nodes": [
        {
            "id": "check",
            "type": "condition",
            "parameters": {"conditions": {"attr": "trigger.changes.name.new", "op": "ne", "value": ""}},
        },
        {
            "id": "shape",
            "type": "transform",
            "parameters": {"fields": {"old": "trigger.changes.name.old", "new": "trigger.changes.name.new"}},
        },
        {"id": "keep", "type": "set", "parameters": {"values": {"renamed_to": "{{ steps.shape.new }}"}}},
    ],
    "edges": [{"from": "check", "port": "true", "to": "shape"}, {"from": "shape", "port": "out", "to": "keep"}],
}


def _publish(tenant, count: int, rate: float | None) -> None:
    from django.db import transaction
    from django_tenants.utils import tenant_context

    from apps.events.services import event_publish

    start = time.perf_counter()
    with tenant_context(tenant):
        for i in range(count):
            if rate:
                pause = start + i / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            with transaction.atomic():
                event_publish(
                    event_type="organisation.settings_changed",
                    payload={"changes": {"name": {"old": f"n{i}", "new": f"n{i + 1}"}}},
                    tenant=tenant,
                )


def _wait_done(tenant, workflow, count: int, limit: float = 300) -> float:
    from django_tenants.utils import tenant_context

    from apps.workflow.models import WorkflowRun

    deadline = time.monotonic() + limit
    with tenant_context(tenant):
        while time.monotonic() < deadline:
            done = WorkflowRun.objects.filter(workflow=workflow, status="succeeded").count()
            failed = WorkflowRun.objects.filter(workflow=workflow, status="failed").first()
            if failed is not None:
                raise RuntimeError(f"a run failed: {failed.error}")
            if done >= count:
                return time.time()
            time.sleep(0.05)
    raise RuntimeError(f"{done} of {count} runs finished in {limit} s")


def workflow_runs():
    from django.db.models import Max, Min
    from django_tenants.utils import tenant_context

    from apps.workflow import services
    from apps.workflow.models import StepRun, WorkflowRun
    from bench.events import _stop_group

    with fresh_tenant("bench-workflow", "Bench workflow") as tenant:
        # The worker first: starting it empties the queue, which would drop the dispatch task that
        # publishing the workflow sends (and its "queued" flag would hold back the next ones).
        worker = _start_worker()
        try:
            with tenant_context(tenant):
                workflow = services.workflow_create(
                    tenant=tenant, name="Bench", graph=GRAPH, publish_now=True, max_concurrent_runs=1000
                )
            # Throughput: everything at once.
            started = time.time()
            _publish(tenant, RUNS, None)
            log(f"workflow: {RUNS} events published in {time.time() - started:.1f} s")
            ended = _wait_done(tenant, workflow, RUNS)
            with tenant_context(tenant):
                span = WorkflowRun.objects.filter(workflow=workflow).aggregate(a=Min("created"), b=Max("finished_at"))
                steps = StepRun.objects.filter(run__workflow=workflow).count()
            throughput = RUNS / (ended - started)
            report("workflow_runs_per_s", throughput, "runs/s")
            log(f"workflow: {steps} steps; runs from {span['a']} to {span['b']}")
            # Latency: a steady load the worker keeps up with, then the worker's full throughput.
            steady = float(LATENCY_RATE) if LATENCY_RATE else throughput * LATENCY_LOAD
            for name, rate in (("trigger_latency_p95_ms", steady), ("trigger_latency_saturated_p95_ms", throughput)):
                latencies = _latencies(tenant, workflow, rate)
                report(name, percentile(latencies, 95), "ms")
                log(
                    f"workflow: {rate:.1f} events/s: trigger latency p50 {percentile(latencies, 50):.0f} ms,"
                    f" max {max(latencies):.0f} ms"
                )
        finally:
            _stop_group(worker)


def _latencies(tenant, workflow, rate: float) -> list[float]:
    """LATENCY_EVENTS events published at `rate` a second; per run, ms from its event's outbox row to
    its first step starting."""
    from django_tenants.utils import tenant_context

    from apps.events.models import Event
    from apps.workflow.models import StepRun, WorkflowRun

    with tenant_context(tenant):
        WorkflowRun.objects.all().delete()
        Event.objects.all().delete()
    _publish(tenant, LATENCY_EVENTS, rate)
    _wait_done(tenant, workflow, LATENCY_EVENTS)
    with tenant_context(tenant):
        occurred = dict(Event.objects.filter(type="organisation.settings_changed").values_list("pk", "occurred_at"))
        latencies = []
        for run in WorkflowRun.objects.filter(workflow=workflow):
            first = StepRun.objects.filter(run=run, node_id="check").values_list("started_at", flat=True).get()
            latencies.append((first - occurred[_uuid(run.trigger_data["event"]["id"])]).total_seconds() * 1000)
    return latencies


def _start_worker():
    """bench.events' worker (production settings, prefork), given longer to start on a busy machine."""
    from bench.events import _celery, _stop_group
    from config.celery import app

    app.control.purge()  # tasks an interrupted run left for tenants that are gone
    worker = _celery(
        "worker",
        "-P",
        "prefork",
        "-c",
        str(WORKER_CONCURRENCY),
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    )
    deadline = time.monotonic() + 120
    while not app.control.ping(timeout=1):
        if worker.poll() is not None or time.monotonic() > deadline:
            _stop_group(worker)
            raise RuntimeError("the Celery worker did not start")
    return worker


def _uuid(text):
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        return int(text)
