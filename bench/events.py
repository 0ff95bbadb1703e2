"""Event spine benchmarks.

- webhook_p95_ms: publish() → webhook received by a local HTTP receiver, p95 over RATE events/s
  held for SECONDS s (after a warm-up), through a real Celery worker (prefork, WORKER_CONCURRENCY
  processes): outbox row; after commit, the tenant's outbox task (queued once at a time), which
  dispatches every new event in batches and writes the delivery rows in bulk; after that commit,
  the endpoint's delivery task (one at a time per endpoint), which leases the due deliveries and
  sends them, signed, up to HUB_WEBHOOK_ENDPOINT_CONCURRENCY at a time. Target: under 1,000 ms at
  100 events/s. The stages (publish → delivery row written → received) are logged.
- webhook_slow_p95_ms: the same to a receiver answering SLOW_RECEIVER_SECONDS after each request
  arrived, after webhook_p95_ms in the same run (the baseline). Target: under 1,000 ms.
- webhook_recovery_s: RECOVERY_EVENTS published to the slow receiver, the worker killed with
  deliveries in flight and restarted at once (beat runs on its own): seconds from the kill until
  every event has arrived. Target: under 15 s.
- ws_connections, ws_memory_per_conn_kb, ws_fanout_p95_ms: one uvicorn process (as deployed:
  no permessage-deflate) holds WS_TARGET idle websocket connections to /ws/, each authenticated
  by a member's session cookie (the consumer checks the membership and listens to the tenant's
  and the member's groups); the resident memory it gains per connection; and the time from
  group_send of one notification to its arrival on each connection (p95 over all connections
  and FANOUT_PUSHES pushes). The group_send is one Redis PUBLISH; the server's channel layer
  reads it once and writes it to every socket (apps.events.layers). One client process
  (asyncio, `websockets`) opens them all, so the open-file limit is raised to its hard limit
  for both processes, and it freezes its garbage collector's view of the open connections
  before the pushes, so that its own full collections (a second each) are not timed.
"""

import asyncio
import gc
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import log, percentile, report, stop

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SLUG = "bench-events"
EMAIL = "owner@bench-events.example.com"
RATE = int(os.environ.get("BENCH_WEBHOOK_RATE", 100))
SECONDS = int(os.environ.get("BENCH_WEBHOOK_SECONDS", 15))
WARMUP_SECONDS = 3
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WEBHOOK_WORKERS", 8))
SLOW_RECEIVER_SECONDS = 0.1
RECOVERY_EVENTS = 300
WS_TARGET = 10_000
WS_OPENING_AT_ONCE = 200
FANOUT_PUSHES = 5


def _setup():
    from apps.identity.models import User
    from apps.identity.services import organisation_provision
    from apps.tenancy.models import Tenant

    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        tenant, _ = organisation_provision(name="Bench events", slug=SLUG, owner_email=EMAIL, owner_password=None)
    return tenant, User.objects.get(email=EMAIL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _raise_open_files() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _env(settings_module: str) -> dict:
    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "BENCH_DATABASE_NAME": settings.DATABASES["default"]["NAME"],
    }


# --- webhook_p95_ms, webhook_slow_p95_ms, webhook_recovery_s ---------------------------------------


class _Receiver:
    """bench/receiver.py in a subprocess (answering `delay` seconds after each request); arrivals
    are read from its stdout by a thread."""

    def __init__(self, delay: float = 0.0):
        self.arrivals: dict[str, float] = {}
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "receiver.py"), str(delay)],
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        first = self.process.stdout.readline().split()
        self.port = int(first[1])
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            message_id, at = line.split()
            with self.lock:
                self.arrivals.setdefault(message_id, float(at))

    def received(self, message_ids) -> int:
        with self.lock:
            return sum(1 for m in message_ids if m in self.arrivals)

    def wait_for(self, message_ids, *, stall_seconds: float, limit_seconds: float = 600) -> bool:
        """Waits until every message arrived; gives up after `stall_seconds` without a new one."""
        deadline = time.monotonic() + limit_seconds
        last, progress_at = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = self.received(message_ids)
            if count == len(message_ids):
                return True
            if count != last:
                last, progress_at = count, time.monotonic()
            elif time.monotonic() - progress_at > stall_seconds:
                return False
            time.sleep(0.05)
        return False

    def stop(self):
        stop(self.process)


def _forget_events():
    """What earlier runs left: the owner's notifications of each event too (their unread count is
    read for every live push, so thousands left over would slow the next run down)."""
    from apps.events.models import Event
    from apps.notifications.models import Notification, WebhookEndpoint

    WebhookEndpoint.objects.all().delete()
    Event.objects.all().delete()
    Notification.objects.all().delete()


def _endpoint_for(tenant, receiver):
    from django.test import override_settings
    from django_tenants.utils import tenant_context

    from apps.notifications import webhooks

    with tenant_context(tenant):
        _forget_events()
        with override_settings(HUB_WEBHOOK_REQUIRE_HTTPS=False, HUB_WEBHOOK_ALLOW_LOOPBACK=True):
            webhooks.endpoint_create(
                url=f"http://127.0.0.1:{receiver.port}/hook", event_types=["organisation.settings_changed"]
            )


def _celery(*arguments, settings_module: str = "bench.settings_events") -> subprocess.Popen:
    """A Celery process with the production settings (as deployed), in a process group of its own."""
    return subprocess.Popen(
        [BIN / "celery", "-A", "config", *arguments, "-l", os.environ.get("BENCH_WORKER_LOG", "warning")],
        cwd=ROOT,
        env=_env(settings_module),
        stdout=sys.stderr,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _start_worker(
    settings_module: str = "bench.settings_events", concurrency: int = WORKER_CONCURRENCY
) -> subprocess.Popen:
    from config.celery import app

    worker = _celery(
        "worker",
        "-P",
        "prefork",
        "-c",
        str(concurrency),
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        settings_module=settings_module,
    )
    deadline = time.monotonic() + 30
    while not app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not start")
    return worker


def _stop_group(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _publish(tenant, count: int, *, counted_from: int = 0) -> dict[str, float]:
    """Publishes `count` events at RATE per second, each in its own transaction (as a service
    would); returns when each one counted was committed, by webhook-id."""
    from django.db import transaction
    from django_tenants.utils import tenant_context

    from apps.events.services import event_publish
    from apps.notifications import webhooks

    published: dict[str, float] = {}
    interval = 1 / RATE
    start = time.perf_counter()
    with tenant_context(tenant):
        for i in range(count):
            pause = start + i * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            sent = time.time()
            with transaction.atomic():
                event = event_publish(
                    event_type="organisation.settings_changed",
                    payload={"changes": {"name": {"old": f"n{i}", "new": f"n{i + 1}"}}},
                    tenant=tenant,
                )
            if i >= counted_from:
                published[webhooks.message_id_for(event.pk)] = sent
    log(f"webhook: {count / (time.perf_counter() - start):.0f} events/s published")
    return published


def _explain_missing(tenant, missing: int) -> RuntimeError:
    from django.db.models import Count
    from django_tenants.utils import tenant_context

    from apps.events.models import Event
    from apps.notifications.models import WebhookDelivery

    with tenant_context(tenant):
        states = dict(WebhookDelivery.objects.values_list("status").annotate(n=Count("pk")))
        undispatched = Event.objects.filter(dispatched_at__isnull=True).count()
    return RuntimeError(f"{missing} webhooks never arrived (deliveries {states}, {undispatched} undispatched)")


def _latency_p95(tenant, name: str, delay: float) -> None:
    """One phase: a receiver answering in `delay` s; RATE events/s for WARMUP_SECONDS + SECONDS."""
    receiver = _Receiver(delay)
    try:
        _endpoint_for(tenant, receiver)
        log(
            f"{name}: publishing {RATE * (WARMUP_SECONDS + SECONDS)} events at {RATE}/s to a receiver "
            f"answering in {delay * 1000:.0f} ms ({WARMUP_SECONDS} s warm-up not counted)"
        )
        published = _publish(tenant, RATE * (WARMUP_SECONDS + SECONDS), counted_from=RATE * WARMUP_SECONDS)
        receiver.wait_for(published, stall_seconds=30)
        with receiver.lock:
            latencies = [(receiver.arrivals[m] - t) * 1000 for m, t in published.items() if m in receiver.arrivals]
        missing = len(published) - len(latencies)
        log(
            f"{name}: {len(latencies)} received, {missing} missing; p50 {percentile(latencies, 50):.1f} ms, "
            f"p99 {percentile(latencies, 99):.1f} ms, max {max(latencies):.1f} ms"
        )
        if missing:
            raise _explain_missing(tenant, missing)
        _log_stages(tenant, name, published, receiver)
        report(name, percentile(latencies, 95), "ms")
    finally:
        receiver.stop()


def _log_stages(tenant, name, published, receiver) -> None:
    """Where the time went: publish → delivery row written (the outbox dispatch) → arrival."""
    from django.db.models import Count
    from django_tenants.utils import tenant_context

    from apps.notifications.models import WebhookAttempt, WebhookDelivery

    with tenant_context(tenant):
        created = dict(
            WebhookDelivery.objects.filter(message_id__in=list(published)).values_list("message_id", "created")
        )
        failed = dict(
            WebhookAttempt.objects.exclude(response_status__gte=200, response_status__lt=300)
            .values_list("error")
            .annotate(n=Count("pk"))
        )
    if failed:
        log(f"{name}: failed attempts (retried): {failed}")
    dispatch = [(created[m].timestamp() - t) * 1000 for m, t in published.items() if m in created]
    with receiver.lock:
        send = [(receiver.arrivals[m] - created[m].timestamp()) * 1000 for m in published if m in created]
    log(
        f"{name}: publish → delivery written p50 {percentile(dispatch, 50):.0f} ms, p95 "
        f"{percentile(dispatch, 95):.0f} ms; → received p50 {percentile(send, 50):.0f} ms, "
        f"p95 {percentile(send, 95):.0f} ms"
    )


def _webhook_latencies(*phases: tuple[str, float]) -> None:
    """publish() → webhook received, through a real Celery worker, for each (name, receiver delay)."""
    from django_tenants.utils import tenant_context

    from config.celery import app

    tenant, _ = _setup()
    app.control.purge()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker = _start_worker()
    try:
        for name, delay in phases:
            _latency_p95(tenant, name, delay)
    finally:
        _stop_group(worker)
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = (cpu.ru_utime - cpu_before.ru_utime) + (cpu.ru_stime - cpu_before.ru_stime)
        total = RATE * (WARMUP_SECONDS + SECONDS) * len(phases)
        log(f"webhook: worker and receivers used {spent:.1f} s of CPU, {spent * 1000 / total:.1f} ms per event")
        with tenant_context(tenant):
            _forget_events()


def webhook_p95_ms():
    _webhook_latencies(("webhook_p95_ms", 0.0))


def webhook_slow_p95_ms():
    """The same to a receiver that answers in SLOW_RECEIVER_SECONDS, after the fast receiver's
    webhook_p95_ms in the same run (the baseline)."""
    _webhook_latencies(("webhook_p95_ms", 0.0), ("webhook_slow_p95_ms", SLOW_RECEIVER_SECONDS))


def webhook_recovery_s():
    """RECOVERY_EVENTS published at RATE/s to the slow receiver; as the last one is committed the
    worker is killed (SIGKILL to its whole process group: no clean-up) while deliveries are in
    flight, and a new one is started at once. Beat runs on its own, as deployed. Reports the time
    from the kill until every event has arrived (and logs the time from the restart)."""
    from django_tenants.utils import tenant_context

    from config.celery import app

    tenant, _ = _setup()
    receiver = _Receiver(SLOW_RECEIVER_SECONDS)
    app.control.purge()
    schedule = tempfile.mkdtemp(prefix="hub-bench-beat-")
    beat = worker = None
    try:
        _endpoint_for(tenant, receiver)
        beat = _celery("beat", "-s", str(Path(schedule) / "schedule"))
        worker = _start_worker()
        log(f"webhook_recovery: publishing {RECOVERY_EVENTS} events at {RATE}/s, then killing the worker")
        published = _publish(tenant, RECOVERY_EVENTS)
        os.killpg(worker.pid, signal.SIGKILL)
        killed = time.time()
        worker.wait()
        before = receiver.received(published)
        if before == len(published):
            raise RuntimeError("every event was delivered before the kill: nothing was tested")
        worker = _start_worker()
        restarted = time.time()
        log(
            f"webhook_recovery: {before}/{len(published)} received at the kill; worker restarted in "
            f"{restarted - killed:.1f} s"
        )
        if not receiver.wait_for(published, stall_seconds=300):
            raise _explain_missing(tenant, len(published) - receiver.received(published))
        with receiver.lock:
            last = max(receiver.arrivals[m] for m in published)
        log(f"webhook_recovery: every event received {last - restarted:.1f} s after the restart")
        report("webhook_recovery_s", last - killed, "s")
    finally:
        for process in (worker, beat):
            if process is not None:
                _stop_group(process)
        receiver.stop()
        shutil.rmtree(schedule, ignore_errors=True)
        with tenant_context(tenant):
            _forget_events()


# --- websockets --------------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _session_cookie(tenant, user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST=f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}")
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def _hold_and_measure(port, host, cookie, push, server_pid):
    from websockets.asyncio.client import connect
    from websockets.protocol import State

    uri = f"ws://{host}/ws/"
    headers = [("Cookie", cookie)]
    sockets, arrivals = [], []
    failures = 0

    async def open_one():
        nonlocal failures
        try:
            ws = await connect(
                uri,
                host="127.0.0.1",
                port=port,
                origin=f"http://{host}",
                additional_headers=headers,
                ping_interval=None,
                open_timeout=60,
                max_queue=4,
            )
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello"
            sockets.append(ws)
        except Exception as exc:  # noqa: BLE001
            failures += 1
            if failures <= 3:
                log(f"ws: a connection failed: {exc!r}")

    baseline = None
    started = time.monotonic()
    while len(sockets) < WS_TARGET and failures < 100:
        batch = min(WS_OPENING_AT_ONCE, WS_TARGET - len(sockets))
        await asyncio.gather(*(open_one() for _ in range(batch)))
        if baseline is None and sockets:
            await asyncio.sleep(0.5)
            baseline = (_rss_kb(server_pid), len(sockets))
        if len(sockets) % 2000 < WS_OPENING_AT_ONCE:
            log(f"ws: {len(sockets)} connections open ({time.monotonic() - started:.0f} s)")
    await asyncio.sleep(2)  # let the server settle
    opened = len(sockets)
    sockets = [ws for ws in sockets if ws.state is State.OPEN]  # the server may have dropped some
    held = len(sockets)
    if held < opened:
        log(f"ws: {opened - held} of {opened} connections were closed by the server while idle")
    rss = _rss_kb(server_pid)
    per_conn = (rss - baseline[0]) / max(1, held - baseline[1])
    log(f"ws: {held} open; server RSS {baseline[0]} kB with {baseline[1]} → {rss} kB with {held}")
    # This one process stands in for 10,000 browsers: its garbage collector walking their
    # connections (about a second per full collection) must not be timed as the server's fan-out.
    gc.collect()
    gc.freeze()

    async def receive(ws, bucket):
        while True:
            data = json.loads(await ws.recv())
            if data.get("type") == "notification":
                bucket.append(time.time() - data["notification"]["sent"])
                return

    totals = []
    for n in range(FANOUT_PUSHES):
        bucket = []
        waiters = [asyncio.ensure_future(receive(ws, bucket)) for ws in sockets]
        await asyncio.sleep(0.2)
        await push(n)
        done, pending = await asyncio.wait(waiters, timeout=60)
        for task in pending:
            task.cancel()
        arrivals.extend(bucket)
        totals.append(max(bucket) if bucket else float("inf"))
        log(f"ws: push {n}: {len(bucket)}/{held} received, all within {totals[-1] * 1000:.0f} ms")
        await asyncio.sleep(0.5)
    for ws in sockets:
        ws.transport.abort()
    gc.unfreeze()
    return held, per_conn, arrivals, totals


def ws_connections():
    from channels.layers import get_channel_layer

    from apps.core import realtime

    limit = _raise_open_files()
    tenant, user = _setup()
    host = f"{tenant.slug}.localhost"
    cookie = _session_cookie(tenant, user)
    port = _free_port()
    log(f"ws: open-file limit {limit}; starting uvicorn on {port}")
    server = subprocess.Popen(
        [
            BIN / "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
            "--backlog",
            "4096",
            "--ws-per-message-deflate",  # as deployed (Dockerfile)
            "false",
        ],
        cwd=ROOT,
        env=_env("bench.settings"),
        stdout=sys.stderr,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.1)
        layer = get_channel_layer()
        group = realtime.user_group(tenant.schema_name, user.pk)

        async def push(n):
            note = {
                "id": n,
                "title": f"push {n}",
                "event_type": "bench",
                "url": "",
                "body": "",
                "created": "",
                "read": False,
                "sent": time.time(),
            }
            await layer.group_send(group, {"type": "hub.notification", "notification": note, "unread": n})

        held, per_conn, arrivals, totals = asyncio.run(_hold_and_measure(port, host, cookie, push, server.pid))
        received = len(arrivals) // FANOUT_PUSHES
        # Held = still open and still receiving after the pushes (a connection that missed one is not held).
        report("ws_connections", min(held, received), "connections", digits=0)
        report("ws_memory_per_conn_kb", per_conn, "kB")
        report("ws_fanout_p95_ms", percentile(arrivals, 95) * 1000, "ms")
        log(
            f"ws: fan-out to all {held}: {', '.join(f'{t * 1000:.0f}' for t in totals)} ms "
            "(slowest connection per push)"
        )
    finally:
        stop(server, timeout=30)
