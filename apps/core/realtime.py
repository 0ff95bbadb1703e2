"""Pushes to the websocket groups every dashboard joins (apps.notifications.consumers).

Groups: one per tenant (every member's open pages) and one per member of a tenant. Sending is
best-effort: a channel-layer outage is logged and the pages catch up when they reconnect. It
lives in core so that every layer can reach open pages: identity closes the sockets of a session
it ends, notifications push to them.

Sync callers (Celery workers, views) share one event loop per process, running in a background
thread, so the channel layer keeps its Redis connections instead of opening new ones (and a new
loop) for every message as async_to_sync would.
"""

import asyncio
import logging
import os
import threading

from channels.layers import get_channel_layer

from . import tracing

logger = logging.getLogger(__name__)
SEND_TIMEOUT = 5.0

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_loop_lock = threading.Lock()


def tenant_group(schema_name: str) -> str:
    return f"hub.{schema_name}"


def user_group(schema_name: str, user_id: int) -> str:
    return f"hub.{schema_name}.u{user_id}"


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or not _loop.is_running():  # new, or inherited by fork
            loop = asyncio.new_event_loop()
            started = threading.Event()

            def run():
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set)
                loop.run_forever()

            threading.Thread(target=run, name="hub-channel-layer", daemon=True).start()
            started.wait()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def group_send(group: str, message: dict) -> bool:
    """Sends `message` to `group`'s sockets; False when it could not. With tracing on it is a
    span of its own, and the message carries its `traceparent` so the server processes holding
    the sockets continue the trace."""
    if tracing.enabled():
        with tracing.span(f"ws push {message.get('type', '')}", kind="producer", attributes={"hub.group": group}):
            return _group_send(group, {**message, "traceparent": tracing.traceparent()})
    return _group_send(group, message)


def _group_send(group: str, message: dict) -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _background_loop())
            future.result(timeout=SEND_TIMEOUT)
        else:  # called from async code's thread (should not happen): fall back to asgiref
            from asgiref.sync import async_to_sync

            async_to_sync(layer.group_send)(group, message)
    except Exception as exc:  # noqa: BLE001 - never fail the caller over a live update
        logger.warning("live update to %s not sent: %s", group, exc)
        return False
    return True
