"""Sending a task once: at most one queued, not yet started copy of a task per tenant and key.

A task per event would cost the worker more than the work itself, so the senders of the event
spine (publish, the webhook handler) ask for "the tenant's outbox to be dispatched" or "this
endpoint's due deliveries to be sent", and the task takes everything there is. The sender sets a
flag in Redis (SET NX with a short expiry) and sends the task only if it set the flag; the task
clears the flag first thing, before it reads the database, so whatever was committed before a
send was skipped is seen by the copy already queued. If sending fails the flag is dropped; if the
queued copy is lost (a killed worker) the flag expires after FLAG_SECONDS, and the periodic sweep
catches up with anything left. Without Redis the task is simply sent every time.
"""

import logging

from django_redis import get_redis_connection

logger = logging.getLogger(__name__)

FLAG_SECONDS = 10


def _flag(schema_name: str, key: str) -> str:
    return f"hub:queued:{schema_name}:{key}"


def _redis():
    return get_redis_connection("default")


def task_enqueue_once(task, *, schema_name: str, key: str, args=(), countdown: float | None = None) -> None:
    """Sends `task(*args)` to run in `schema_name`'s schema unless a copy (same key) is queued and
    has not started. A countdown always sends (a delayed copy does not stand for an immediate one)."""
    flag = _flag(schema_name, key)
    if not countdown:
        try:
            if not _redis().set(flag, 1, nx=True, ex=FLAG_SECONDS):
                return
        except Exception:  # noqa: BLE001 - Redis is down: send it anyway
            flag = None
    try:
        task.apply_async(args=list(args), countdown=countdown or None, headers={"_schema_name": schema_name})
    except Exception:  # noqa: BLE001 - the rows are safe in the database; the sweep will send it
        logger.warning("could not enqueue %s for %s; the sweep will", key, schema_name)
        if flag and not countdown:
            task_started(schema_name=schema_name, key=key)


def task_started(*, schema_name: str, key: str) -> None:
    """The task calls this before it reads anything: later commits need a new copy of it."""
    try:
        _redis().delete(_flag(schema_name, key))
    except Exception:  # noqa: BLE001 - the flag expires by itself
        logger.warning("could not clear the queued flag %s of %s", key, schema_name)
