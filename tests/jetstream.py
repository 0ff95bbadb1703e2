"""NATS JetStream for the event-stream tests (tests/events/testjetstreaming.py, tests/e2e): the
machine's server when it answers, else one started with -js on a spare port; a stream and subject
prefix of this run's own, emptied before each test and deleted at the end."""

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
import uuid

import nats
import pytest
from nats.js.errors import NotFoundError

from apps.events.streams.jetstream import jetstream_ready
from tests.events.fixtures import forget_holds
from tests.processes import free_port

RUN = uuid.uuid4().hex[:8]
STREAM = f"HUBTEST_{RUN}"
PREFIX = f"hubtest.{RUN}"
TYPE = "organisation.settings_changed"


def change(field: str, n: int) -> dict:
    return {"changes": {field: {"old": n - 1, "new": n}}}


@pytest.fixture(scope="session")
def nats_url():
    url = "nats://127.0.0.1:4222"
    if jetstream_ready(url):
        yield url
        return
    store = tempfile.mkdtemp(prefix="hub-nats-")
    port = free_port()
    server = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store])
    url = f"nats://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not jetstream_ready(url):
        assert server.poll() is None and time.monotonic() < deadline, "nats-server did not start"
        time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(10)
    shutil.rmtree(store, ignore_errors=True)


@pytest.fixture(scope="module")
def jetstream(nats_url):
    yield nats_url

    async def drop():
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_stream(STREAM)
        except Exception:  # noqa: BLE001 - never made
            pass
        await nc.close()

    asyncio.run(drop())


@pytest.fixture
def stream_on(jetstream, settings):
    settings.HUB_EVENT_STREAM_URL = jetstream
    settings.HUB_EVENT_STREAM_NAME = STREAM
    settings.HUB_EVENT_STREAM_SUBJECT_PREFIX = PREFIX
    forget_holds()
    purge(jetstream)
    return jetstream


def purge(url):
    async def run():
        nc = await nats.connect(url)
        try:
            await nc.jetstream().purge_stream(STREAM)
        except Exception:  # noqa: BLE001 - not made yet
            pass
        await nc.close()

    asyncio.run(run())


def stored(url) -> list[dict]:
    """Every message in the stream, in the stream's order: subject, headers, body."""

    async def read():
        nc = await nats.connect(url)
        js = nc.jetstream()
        try:
            info = await js.stream_info(STREAM)
        except NotFoundError:  # nothing published yet
            await nc.close()
            return []
        out = []
        if info.state.messages:
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg(STREAM, seq)
                out.append({"subject": msg.subject, "headers": msg.headers or {}, "body": json.loads(msg.data)})
        await nc.close()
        return out

    return asyncio.run(read())
