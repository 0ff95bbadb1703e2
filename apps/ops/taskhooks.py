"""Celery's side of metrics and logs, through Celery's signals.

- Sending a task (any process): it is counted as queued, and its headers carry the sending
  request's id, its trace id and the time it was sent.
- Running it (the worker's process, prefork child or not): its log lines carry that request id,
  the task's name and id and its tenant's schema; it is counted as running, then as succeeded,
  failed or retried, with how long it waited in the queue and how long it ran.
"""

import os
import time

import structlog
from celery import signals
from django.conf import settings

from apps.core import metrics

from . import logs

OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}
_started: dict[str, float] = {}


def _measure() -> bool:
    return settings.HUB_METRICS_ENABLED


def before_publish(sender=None, headers=None, **kwargs):
    if headers is None:
        return
    context = logs.request_fields(None, None, structlog.contextvars.get_contextvars())
    for field in ("request_id", "trace_id", "user_id"):
        if context.get(field) is not None:
            headers.setdefault(f"hub_{field}", context[field])
    headers.setdefault("hub_sent_at", time.time())
    if _measure():
        metrics.celery_tasks_queued.labels(task=sender or "unknown").inc()


def prerun(task_id=None, task=None, **kwargs):
    request = task.request
    if not request.is_eager:  # run in place (eager), a task keeps its caller's fields
        logs.bind(
            request_id=request.get("hub_request_id"),
            trace_id=request.get("hub_trace_id"),
            user_id=request.get("hub_user_id"),
            tenant=request.get("_schema_name"),
            task=task.name,
            task_id=task_id,
        )
    if _measure():
        _started[task_id] = time.perf_counter()
        metrics.celery_tasks_running.labels(task=task.name).inc()
        sent_at = request.get("hub_sent_at")
        if sent_at:
            metrics.celery_task_wait.labels(task=task.name).observe(max(0.0, time.time() - float(sent_at)))


def postrun(task_id=None, task=None, state=None, **kwargs):
    if not task.request.is_eager:
        logs.unbind()
    started = _started.pop(task_id, None)
    if started is None or not _measure():
        return
    metrics.celery_tasks_running.labels(task=task.name).dec()
    metrics.celery_task_duration.labels(task=task.name).observe(time.perf_counter() - started)
    metrics.celery_tasks_finished.labels(task=task.name, outcome=OUTCOMES.get(state, "other")).inc()


def process_gone(pid=None, **kwargs):
    """A prefork child ends: its live gauges no longer count (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


def worker_ready(**kwargs):
    """A worker with HUB_METRICS_WORKER_PORT set serves its own /metrics there (in a container of
    its own, the web servers' /metrics cannot see its samples)."""
    if settings.HUB_METRICS_ENABLED and settings.HUB_METRICS_WORKER_PORT:
        from . import scrape

        scrape.serve_worker_metrics(settings.HUB_METRICS_WORKER_PORT)


def connect():
    signals.before_task_publish.connect(before_publish, dispatch_uid="hub-ops-publish")
    signals.task_prerun.connect(prerun, dispatch_uid="hub-ops-prerun")
    signals.task_postrun.connect(postrun, dispatch_uid="hub-ops-postrun")
    signals.worker_process_shutdown.connect(process_gone, dispatch_uid="hub-ops-process-gone")
    signals.worker_ready.connect(worker_ready, dispatch_uid="hub-ops-worker-ready")
