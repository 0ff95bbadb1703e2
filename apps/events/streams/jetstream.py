"""NATS JetStream as the hub's event stream (nats-py).

One stream (HUB_EVENT_STREAM_NAME) takes every subject under HUB_EVENT_STREAM_SUBJECT_PREFIX; the
hub creates it, if it does not exist, with a duplicate window of
HUB_EVENT_STREAM_DUPLICATE_WINDOW_SECONDS: a message whose Nats-Msg-Id the stream has seen within
that window is acknowledged as a duplicate and not stored again. An existing stream is used as it
is (operators may give it replicas, limits, another storage).

nats-py is asynchronous; the hub's publishers are synchronous (Celery tasks, commands). Each
connection has an event loop of its own, run only while it publishes, so the caller's database
work never happens inside a running loop.
"""

import asyncio
from collections.abc import Sequence

import nats
from django.conf import settings
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from .base import EventStream, PublishResult, StreamMessage, StreamUnavailable


async def _quiet(exc) -> None:
    pass


class JetStream(EventStream):
    def __init__(self, url: str, *, stream_name: str | None = None):
        self.stream_name = stream_name or settings.HUB_EVENT_STREAM_NAME
        self.timeout = settings.HUB_EVENT_STREAM_ACK_TIMEOUT_SECONDS
        self._loop = asyncio.new_event_loop()
        try:
            self._nc = self._run(asyncio.wait_for(self._connect(url), self.timeout * 2))
        except Exception as exc:  # noqa: BLE001 - nats raises many kinds; all mean "not now"
            self._loop.close()
            raise StreamUnavailable(f"cannot connect to NATS at {url}: {type(exc).__name__}: {exc}") from exc
        # No limit on acks in flight below a batch: a publish that never waits never yields to the
        # loop, so nats-py writes the whole batch to the socket at once instead of a write per message.
        self._js = self._nc.jetstream(timeout=self.timeout, publish_async_max_pending=10**6)
        try:
            self._run(self._ensure_stream())
        except Exception as exc:  # noqa: BLE001
            self.close()
            raise StreamUnavailable(f"cannot set up the JetStream stream {self.stream_name}: {exc}") from exc

    async def _connect(self, url: str):
        # One try per server (nats-py's "0 attempts" would retry the first connection forever); the
        # caller sends the work again later. Errors are reported by the exception, not logged here.
        return await nats.connect(
            url,
            connect_timeout=self.timeout,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.1,
            error_cb=_quiet,
        )

    def _run(self, coroutine):
        return self._loop.run_until_complete(coroutine)

    async def _ensure_stream(self) -> None:
        try:
            await self._js.stream_info(self.stream_name)
        except NotFoundError:
            await self._js.add_stream(
                StreamConfig(
                    name=self.stream_name,
                    subjects=[f"{settings.HUB_EVENT_STREAM_SUBJECT_PREFIX}.>"],
                    storage=StorageType.FILE,
                    duplicate_window=settings.HUB_EVENT_STREAM_DUPLICATE_WINDOW_SECONDS,
                )
            )

    def publish(self, messages: Sequence[StreamMessage]) -> PublishResult:
        return self._run(self._publish(messages))

    async def _publish(self, messages: Sequence[StreamMessage]) -> PublishResult:
        """Sends every message on the one connection (NATS keeps their order), then waits for the
        acks in the same order; the first failure ends the count."""
        result = PublishResult()
        futures = []
        try:
            for message in messages:
                headers = {**message.headers, "Nats-Msg-Id": message.msg_id}
                futures.append(
                    await self._js.publish_async(
                        message.subject,
                        message.data,
                        headers=headers,
                        stream=self.stream_name,
                    )
                )
        except Exception as exc:  # noqa: BLE001 - the acks of those sent are still counted
            result.error = f"{type(exc).__name__}: {exc}"
        for future in futures:
            try:
                ack = await asyncio.wait_for(future, self.timeout)
            except Exception as exc:  # noqa: BLE001
                result.error = f"{type(exc).__name__}: {exc}"
                break
            result.acked += 1
            result.duplicates += bool(ack.duplicate)
        for future in futures[result.acked :]:
            future.cancel()
        return result

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._nc.close())
        except Exception:  # noqa: BLE001 - closing what is already gone
            pass
        finally:
            self._loop.close()


def jetstream_ready(url: str, timeout: float = 1.0) -> bool:
    """Whether a NATS server with JetStream answers at `url` (for probes, tests and benchmarks)."""

    async def check():
        nc = await nats.connect(
            url, connect_timeout=timeout, allow_reconnect=False, max_reconnect_attempts=1, error_cb=_quiet
        )
        try:
            await nc.jetstream().account_info()
        finally:
            await nc.close()

    try:
        asyncio.run(check())
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False
