"""ingest_events_per_s: analytics events from HTTP batches to rows in the partitioned table.

The ASGI server as the Dockerfile runs it (uvicorn, BENCH_INGEST_WEB_WORKERS processes) takes
POST /batch/ requests of 1,000 events each (PostHog's format, a project key in the body) from
BENCH_INGEST_CLIENTS client threads for BENCH_INGEST_SECONDS; a Celery worker (prefork,
BENCH_INGEST_WRITERS processes) writes them. The figure is the rows in the table once the queue
is drained, divided by the time from the first request to the last row's commit: sustained
ingestion, end to end. Every answer must be a 200 accepting all 1,000 events.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench.common import asgi_server, fresh_tenant, log, report

SLUG = "bench-analytics"
SECONDS = float(os.environ.get("BENCH_INGEST_SECONDS", "20"))
CLIENTS = int(os.environ.get("BENCH_INGEST_CLIENTS", "4"))
WEB_WORKERS = int(os.environ.get("BENCH_INGEST_WEB_WORKERS", "2"))
WRITERS = int(os.environ.get("BENCH_INGEST_WRITERS", "2"))
BATCH = 1000
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def analytics_tenant():
    from django_tenants.utils import schema_context

    from apps.analytics.services import project_key_create

    with fresh_tenant(SLUG, "Bench Analytics") as tenant:
        with schema_context(tenant.schema_name):
            _, raw = project_key_create(tenant=tenant, actor=None, name="bench")
        yield tenant, raw


def _body(key: str) -> bytes:
    """1,000 events of 100 people, without uuids (the server gives each its own)."""
    events = [
        {
            "event": "$pageview" if i % 3 else "clicked",
            "distinct_id": f"person-{i % 100}",
            "properties": {"$current_url": f"https://shop.example.com/p/{i}", "$browser": "Firefox", "i": i},
        }
        for i in range(BATCH)
    ]
    return json.dumps({"api_key": key, "batch": events}).encode()


@contextmanager
def writer_worker():
    from config.celery import app

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    worker = subprocess.Popen(
        [BIN / "celery", "-A", "config", "worker", "-P", "prefork", "-c", str(WRITERS), "-l", "warning",
         "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=sys.stderr, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start")
        yield worker
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _rows(tenant) -> int:
    from django.db import connection
    from django_tenants.utils import schema_context

    with schema_context(tenant.schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('analytics_event') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute("SELECT count(*) FROM analytics_event")
        return cursor.fetchone()[0]


def _send(port: int, host: str, body: bytes, until: float, sent: list, failures: list) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host, "Content-Type": "application/json"}
    while time.monotonic() < until:
        conn.request("POST", "/batch/", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200 or json.loads(answer).get("accepted") != BATCH:
            failures.append((response.status, answer[:300]))
            return
        sent.append(BATCH)
    conn.close()


def ingest_events_per_s():
    from django.conf import settings

    from apps.analytics import queue

    host = f"{SLUG}.{settings.HUB_BASE_HOSTNAME}"
    with analytics_tenant() as (tenant, key), writer_worker():
        body = _body(key)
        with asgi_server("bench.settings", workers=WEB_WORKERS, ready_host=host, ready_path="/capture/") as (_, port):
            sent, failures = [], []
            started = time.monotonic()
            threads = [
                threading.Thread(target=_send, args=(port, host, body, started + SECONDS, sent, failures))
                for _ in range(CLIENTS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            sending = time.monotonic() - started
        if failures:
            raise RuntimeError(f"capture refused a batch: {failures[0]}")
        expected = sum(sent)
        log(f"ingest: {expected} events accepted over HTTP in {sending:.1f} s ({expected / sending:.0f}/s)")
        deadline = time.monotonic() + 300
        while (rows := _rows(tenant)) < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {rows} of {expected} rows written after 5 minutes")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        assert queue.length(tenant.schema_name) == 0
    log(f"ingest: {rows} rows in the table {elapsed:.1f} s after the first request")
    report("ingest_events_per_s", rows / elapsed, "events/s", 0)
