"""Health checks: is each service the hub needs answering, and how fast.

Each check is a function that returns nothing when all is well and raises with a sentence for
people when not. `run_checks()` runs them side by side, each in a thread of its own, and waits at
most HUB_HEALTH_TIMEOUT_SECONDS: a check still running then counts as failed ("did not answer in
time"), so a service that hangs cannot hang the probe.
"""

import asyncio
import secrets
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from celery import current_app
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import caches
from django.db import connection, connections
from django_redis import get_redis_connection

BEAT_KEY = "hub:heartbeat:beat"


class CheckFailed(Exception):
    pass


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache():
    cache = caches["default"]
    key = f"healthz:{secrets.token_hex(8)}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise CheckFailed("The cache did not give back what was just written.")
    cache.delete(key)


def check_workers():
    replies = current_app.control.ping(timeout=settings.HUB_HEALTH_TIMEOUT_SECONDS / 2, limit=1)
    if not replies:
        raise CheckFailed("No Celery worker answered a ping.")


def beat_heartbeat_record():
    get_redis_connection("default").set(
        BEAT_KEY, str(time.time()), ex=int(settings.HUB_HEALTH_BEAT_MAX_AGE_SECONDS * 2)
    )


def check_beat():
    last = get_redis_connection("default").get(BEAT_KEY)
    if last is None:
        raise CheckFailed("Beat has not sent its heartbeat (or no worker ran it).")
    age = time.time() - float(last)
    if age > settings.HUB_HEALTH_BEAT_MAX_AGE_SECONDS:
        raise CheckFailed(f"Beat's last heartbeat is {age:.0f} s old.")


def check_channels():
    async def round_trip():
        layer = get_channel_layer()
        group = f"healthz.{secrets.token_hex(8)}"
        heard = asyncio.Event()

        async def listener(message):
            if message.get("type") == "healthz.ping":
                heard.set()

        await layer.listen([group], listener)
        try:
            await layer.group_send(group, {"type": "healthz.ping"})
            await asyncio.wait_for(heard.wait(), settings.HUB_HEALTH_TIMEOUT_SECONDS)
        finally:
            await layer.unlisten([group], listener)

    async_to_sync(round_trip)()


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "workers": check_workers,
    "beat": check_beat,
    "channels": check_channels,
}

# What the operators' page calls each check.
LABELS = {
    "database": "Database (PostgreSQL)",
    "cache": "Cache (Redis)",
    "workers": "Background workers (Celery)",
    "beat": "Scheduled tasks (Celery beat)",
    "channels": "Live updates (channel layer)",
}


@dataclass
class Result:
    name: str
    ok: bool
    seconds: float
    error: str = ""

    def as_dict(self, *, details: bool = True) -> dict:
        answer = {"status": "ok" if self.ok else "failing", "duration_ms": round(self.seconds * 1000, 1)}
        return answer | {"error": self.error} if self.error and details else answer


def _timed(name: str) -> Result:
    started = time.perf_counter()
    try:
        CHECKS[name]()
        return Result(name, True, time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return Result(name, False, time.perf_counter() - started, str(exc) or exc.__class__.__name__)
    finally:
        connections.close_all()  # this thread's connections (back to the pool)


# One thread per check at most: a probe that comes while a check is still running (a service that
# hangs) waits for that run instead of starting another, so hanging services cannot pile threads up.
_pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="healthz")
_running: dict[str, Future] = {}
_running_lock = threading.Lock()


def _start(name: str) -> Future:
    with _running_lock:
        future = _running.get(name)
        if future is None or future.done():
            future = _running[name] = _pool.submit(_timed, name)
        return future


def run_checks(names: list[str] | None = None) -> list[Result]:
    """The named checks (all when None), in the order asked."""
    futures = {name: _start(name) for name in names or CHECKS}
    deadline = time.monotonic() + settings.HUB_HEALTH_TIMEOUT_SECONDS
    results = []
    for name, future in futures.items():
        try:
            results.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FuturesTimeout:
            results.append(Result(name, False, settings.HUB_HEALTH_TIMEOUT_SECONDS, "Did not answer in time."))
    return results
