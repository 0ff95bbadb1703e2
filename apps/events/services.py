"""Writes on the outbox: publishing, dispatching and sweeping domain events."""

import logging
from collections.abc import Callable
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

from .handlers import handlers_for
from .models import Event

logger = logging.getLogger(__name__)

MAX_DISPATCH_ATTEMPTS = 20
_sweepers: list[Callable[[], int]] = []


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
    schema = tenant.schema_name
    transaction.on_commit(lambda: event_enqueue(event_id=event.pk, schema_name=schema))
    return event


def event_enqueue(*, event_id, schema_name: str) -> None:
    """Sends the dispatch task; a broker outage only delays the event until the next sweep."""
    from .tasks import dispatch_event

    try:
        dispatch_event.apply_async(args=[str(event_id)], headers={"_schema_name": schema_name})
    except Exception:  # noqa: BLE001 - the outbox row is safe; the sweep will pick it up
        logger.warning("could not enqueue event %s in %s; the sweep will dispatch it", event_id, schema_name)


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
            for handler in handlers_for(event.type):
                handler(event)
            event.dispatched_at = timezone.now()
            event.attempts += 1
            event.last_error = ""
            event.save(update_fields=["dispatched_at", "attempts", "last_error"])
        return True
    except Exception as exc:
        Event.objects.filter(pk=event_id, dispatched_at__isnull=True).update(
            attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise


def register_sweeper(sweeper: Callable[[], int]) -> None:
    """`sweeper()` runs in each tenant's schema at every sweep and returns how much it re-enqueued."""
    if sweeper not in _sweepers:
        _sweepers.append(sweeper)


def events_sweep(*, grace_seconds: float | None = None) -> int:
    """Re-enqueues the current tenant's events still undispatched `grace_seconds` after they happened."""
    grace = settings.HUB_EVENTS_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = timezone.now() - timedelta(seconds=grace)
    ids = list(
        Event.objects.filter(dispatched_at__isnull=True, occurred_at__lte=cutoff, attempts__lt=MAX_DISPATCH_ATTEMPTS)
        .order_by("occurred_at")
        .values_list("pk", flat=True)[:1000]
    )
    for event_id in ids:
        event_enqueue(event_id=event_id, schema_name=connection.schema_name)
    return len(ids)


def tenant_sweep() -> int:
    """Everything the sweep does in the current tenant's schema."""
    count = events_sweep()
    for sweeper in _sweepers:
        count += sweeper()
    return count
