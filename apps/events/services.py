"""Writes on the outbox: publishing, dispatching and sweeping domain events."""

import logging
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import schema_context
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from apps.core.registry import registry
from apps.core.taskref import TaskRef

from .handlers import handle
from .models import Event
from .queue import Hold, task_enqueue_once
from .streaming import stream_entry_add, stream_sweep

logger = logging.getLogger(__name__)

MAX_DISPATCH_ATTEMPTS = 20
DISPATCH_BATCH = 100
DISPATCH_KEY = "dispatch"
# The outbox task renews its hold between batches (each takes well under a second).
OUTBOX_HOLD_SECONDS = 10.0
DISPATCH_EVENTS = TaskRef("apps.events.tasks.dispatch_events")
DISPATCH_EVENT = TaskRef("apps.events.tasks.dispatch_event")


class UnknownEventType(LookupError):
    pass


class InvalidPayload(ValueError):
    pass


@lru_cache(maxsize=256)
def _validator(event_type: str) -> Draft202012Validator:
    return Draft202012Validator(registry["event_types"][event_type].payload_schema or {})


def event_payload_validate(*, event_type: str, payload: dict) -> None:
    if event_type not in registry["event_types"]:
        raise UnknownEventType(f"event type {event_type!r} is not declared in the registry")
    try:
        _validator(event_type).validate(payload)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "payload"
        raise InvalidPayload(f"{event_type}: {where}: {exc.message}") from None


def event_publish(*, event_type: str, payload: dict, tenant, actor=None, occurred_at=None) -> Event:
    """Writes the event to `tenant`'s outbox in the current transaction; dispatches it after commit."""
    if tenant is None or tenant.schema_name == "public":
        raise ValueError("events belong to a tenant; the public schema has no outbox")
    event_payload_validate(event_type=event_type, payload=payload)
    actor_id = getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", True) else None
    with schema_context(tenant.schema_name):
        event = Event.objects.create(
            type=event_type, payload=payload, actor_id=actor_id, occurred_at=occurred_at or timezone.now()
        )
        stream_entry_add(event=event, schema_name=tenant.schema_name)
    schema = tenant.schema_name
    transaction.on_commit(lambda: outbox_dispatch_enqueue(schema_name=schema))
    return event


def outbox_dispatch_enqueue(*, schema_name: str) -> None:
    """Sends the task that dispatches the tenant's new events, unless one is queued already; a
    broker outage only delays the events until the next sweep."""
    task_enqueue_once(DISPATCH_EVENTS, schema_name=schema_name, key=DISPATCH_KEY)


def event_enqueue(*, event_id, schema_name: str) -> None:
    """Sends the task that dispatches one event (the sweep's, for events left behind)."""
    try:
        DISPATCH_EVENT.apply_async(args=[str(event_id)], headers={"_schema_name": schema_name})
    except Exception:  # noqa: BLE001 - the outbox row is safe; the next sweep will try again
        logger.warning("could not enqueue event %s in %s; the sweep will dispatch it", event_id, schema_name)


def _mark_dispatched(events: list[Event]) -> None:
    Event.objects.filter(pk__in=[e.pk for e in events]).update(
        dispatched_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )


def _record_failure(event_id, exc: Exception) -> None:
    Event.objects.filter(pk=event_id, dispatched_at__isnull=True).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
    )


def event_dispatch(*, event_id) -> bool:
    """Runs every handler of the event in one transaction and marks it dispatched.

    Returns False when there is nothing to do (already dispatched, or another worker holds it).
    If a handler raises, nothing any handler wrote survives; the attempt and error are recorded
    and the exception propagates (the task retries, the sweep tries again later).
    """
    try:
        with transaction.atomic():
            event = (
                Event.objects.select_for_update(skip_locked=True)
                .filter(pk=event_id, dispatched_at__isnull=True)
                .first()
            )
            if event is None:
                return False
            handle([event])
            _mark_dispatched([event])
        return True
    except Exception as exc:
        _record_failure(event_id, exc)
        raise


def events_dispatch_new(*, batch_size: int = DISPATCH_BATCH, max_batches: int = 50) -> int:
    """Dispatches the current tenant's new events (never attempted), oldest first, `batch_size`
    at a time, each batch in one transaction. Returns how many were dispatched.

    Rows are taken with SELECT … FOR UPDATE SKIP LOCKED, so workers draining the same outbox
    share it without waiting. If a handler raises, the batch's handlers are rolled back and its
    events are dispatched one by one, each in a savepoint: the failing one records its attempt
    and error and is left to the sweep (which retries it with backoff); the others go through.
    After `max_batches` it hands over to a new task, so one busy tenant does not hold a worker.
    The task holds the outbox while it works (apps.events.queue.Hold), so if its worker dies the
    task is sent again once the hold has run out (OUTBOX_HOLD_SECONDS, then a recovery period).
    """
    schema = connection.schema_name
    hold = Hold(DISPATCH_EVENTS, schema_name=schema, key=DISPATCH_KEY, lease_seconds=OUTBOX_HOLD_SECONDS,
                exclusive=False)
    hold.acquire()
    done = _dispatch_batches(hold, batch_size, max_batches)
    hold.release()  # not reached if it failed: then the hold runs out and the task is sent again
    return done


def _dispatch_batches(hold: Hold, batch_size: int, max_batches: int) -> int:
    done = 0
    for _ in range(max_batches):
        if hold.renew_due():
            hold.renew()
        with transaction.atomic():
            events = list(
                Event.objects.select_for_update(skip_locked=True)
                .filter(dispatched_at__isnull=True, attempts=0)
                .order_by("occurred_at")[:batch_size]
            )
            if not events:
                return done
            try:
                with transaction.atomic():
                    handle(events)
                    _mark_dispatched(events)
                done += len(events)
            except Exception:  # noqa: BLE001 - find the culprit one event at a time
                for event in events:
                    try:
                        with transaction.atomic():
                            handle([event])
                            _mark_dispatched([event])
                        done += 1
                    except Exception as exc:  # noqa: BLE001 - recorded; the sweep retries it
                        logger.warning("event %s could not be dispatched: %s", event.pk, exc)
                        _record_failure(event.pk, exc)
        if len(events) < batch_size:
            return done
    outbox_dispatch_enqueue(schema_name=connection.schema_name)
    return done


def events_sweep(*, grace_seconds: float | None = None) -> int:
    """Re-enqueues the current tenant's events still undispatched `grace_seconds` after they
    happened: never-attempted ones through the outbox task (it takes every new event), the ones
    that failed one task each (it retries with backoff). Returns how many were found."""
    grace = settings.HUB_EVENTS_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = timezone.now() - timedelta(seconds=grace)
    left = list(
        Event.objects.filter(dispatched_at__isnull=True, occurred_at__lte=cutoff, attempts__lt=MAX_DISPATCH_ATTEMPTS)
        .order_by("occurred_at")
        .values_list("pk", "attempts")[:1000]
    )
    if any(attempts == 0 for _, attempts in left):
        outbox_dispatch_enqueue(schema_name=connection.schema_name)
    for event_id, attempts in left:
        if attempts:
            event_enqueue(event_id=event_id, schema_name=connection.schema_name)
    return len(left)


def tenant_sweep() -> int:
    """Everything the sweep does in the current tenant's schema: the outbox's own sweep, then
    every registered sweeper."""
    count = events_sweep()
    count += stream_sweep(grace_seconds=settings.HUB_EVENTS_SWEEP_GRACE_SECONDS)
    for sweeper in registry["sweepers"].values():
        count += sweeper.sweep()
    return count
