"""stream_events_per_s: events from the outbox to NATS JetStream acknowledgements, sustained.

BENCH_STREAM_EVENTS events (default 20,000) of one tenant wait in its outbox, each with its stream
entry, as publish() leaves them; the tenant's publisher (apps.events.streaming, what the Celery
task runs) then sends them in batches of HUB_EVENT_STREAM_BATCH, waits for JetStream's acks and
deletes the acknowledged entries. The figure is the events acknowledged divided by the time from
the first batch to the last commit. JetStream: the NATS server of BENCH_NATS_URL (default
nats://127.0.0.1:4222) when it answers, else one started here with -js on a spare port; a stream
of its own (file storage), deleted at the end.
"""

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager

from apps.events.streams.jetstream import jetstream_ready
from bench.common import free_port, log, report, stop

SLUG = "bench-stream"
EVENTS = int(os.environ.get("BENCH_STREAM_EVENTS", "20000"))
NATS_URL = os.environ.get("BENCH_NATS_URL", "nats://127.0.0.1:4222")


@contextmanager
def jetstream():
    if jetstream_ready(NATS_URL):
        yield NATS_URL
        return
    store, port = tempfile.mkdtemp(prefix="bench-nats-"), free_port()
    server = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store])
    url = f"nats://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while not jetstream_ready(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nats-server did not start (Debian: apt-get install nats-server)")
            time.sleep(0.1)
        log(f"started nats-server -js on {port}")
        yield url
    finally:
        stop(server)
        shutil.rmtree(store, ignore_errors=True)


def _drop_stream(url: str, name: str) -> None:
    import nats

    async def drop():
        nc = await nats.connect(url)
        try:
            await nc.jetstream().delete_stream(name)
        finally:
            await nc.close()

    asyncio.run(drop())


def stream_events_per_s() -> None:
    from django.conf import settings
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.events import streaming
    from apps.events.models import Event, StreamEntry
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_create, tenant_delete

    old = Tenant.objects.filter(slug=SLUG).first()
    if old is not None:
        tenant_delete(tenant=old)
    tenant = tenant_create(name="Bench Stream", slug=SLUG, plan="enterprise")
    name = f"BENCH_{uuid.uuid4().hex[:8]}"
    try:
        with jetstream() as url, tenant_context(tenant):
            settings.HUB_EVENT_STREAM_URL = url
            settings.HUB_EVENT_STREAM_NAME = name
            settings.HUB_EVENT_STREAM_SUBJECT_PREFIX = f"bench.{name.lower()}"
            now = timezone.now()
            events = Event.objects.bulk_create(
                Event(
                    type="organisation.settings_changed",
                    payload={"changes": {"name": {"old": f"Org {i}", "new": f"Org {i + 1}"}}},
                    occurred_at=now,
                )
                for i in range(EVENTS)
            )
            StreamEntry.objects.bulk_create(StreamEntry(event=e) for e in events)
            batch = settings.HUB_EVENT_STREAM_BATCH
            log(f"{EVENTS:,} events waiting; publishing to JetStream at {url}, {batch} a batch")
            started = time.monotonic()
            sent = 0
            while StreamEntry.objects.exists():
                sent += streaming.events_stream_pending(max_batches=10**6)
            elapsed = time.monotonic() - started
            assert sent >= EVENTS, f"only {sent} of {EVENTS} events were acknowledged"
            _drop_stream(url, name)
        report("stream_events_per_s", EVENTS / elapsed, "events/s", 0)
    finally:
        tenant_delete(tenant=tenant)
