"""Writes for the external event stream (HUB_EVENT_STREAM_URL): queueing events for it, publishing
a tenant's queue in order, and replaying a tenant's events from a point in time.

While the stream is on, `event_publish()` writes a StreamEntry beside each event, in the same
transaction, and after commit asks for the tenant's stream task (at most one queued). The task
holds the tenant's stream exclusively (one publisher per tenant) and publishes the entries in the
order they were written, a batch at a time: it locks the batch, sends it, waits for the stream's
acknowledgements and deletes the acknowledged entries in the same transaction. So an event is
published at least once: if the worker dies after the stream has it but before the delete
commits, the next run sends it again, with the same message id, and the stream drops the copy.
"""

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.taskref import TaskRef
from apps.tenancy.models import Tenant

from .models import Event, StreamEntry
from .queue import Hold, task_enqueue_once
from .streams.base import PublishResult, StreamUnavailable, event_message, stream_enabled, stream_open

logger = logging.getLogger(__name__)

STREAM_KEY = "stream"
STREAM_EVENTS = TaskRef("apps.events.tasks.stream_events")
STREAM_HOLD_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 300


class StreamPublishFailed(RuntimeError):
    pass


def stream_entry_add(*, event: Event, schema_name: str) -> None:
    """Queues `event` for the stream in the current transaction (nothing while the stream is off)."""
    if not stream_enabled():
        return
    StreamEntry.objects.create(event=event)
    transaction.on_commit(lambda: stream_enqueue(schema_name=schema_name))


def stream_enqueue(*, schema_name: str, countdown: float | None = None) -> None:
    task_enqueue_once(STREAM_EVENTS, schema_name=schema_name, key=STREAM_KEY, countdown=countdown)


def _tenant_slug() -> str:
    slug = getattr(connection.tenant, "slug", None)
    if slug is None:
        slug = Tenant.objects.values_list("slug", flat=True).get(schema_name=connection.schema_name)
    return slug


def events_stream_pending(*, batch_size: int | None = None, max_batches: int = 50) -> int:
    """Publishes the current tenant's queued events to the stream, in order. Returns how many the
    stream acknowledged. Another publisher of the tenant at work: returns 0 (it will see them).
    The stream down or refusing: the attempt is recorded on the first waiting entry and the task is
    sent again after a backoff (the sweep also sends it for entries left waiting)."""
    schema = connection.schema_name
    hold = Hold(STREAM_EVENTS, schema_name=schema, key=STREAM_KEY, lease_seconds=STREAM_HOLD_SECONDS)
    if hold.acquire() != "ok":
        return 0
    batch_size = batch_size or settings.HUB_EVENT_STREAM_BATCH
    done, more, error = 0, False, ""
    try:
        with stream_open() as stream:
            done, more, error = _publish_batches(stream, hold, batch_size, max_batches)
    except StreamUnavailable as exc:
        error = str(exc)
    finally:  # a worker that dies here lets go when its hold runs out (then its task is sent again)
        hold.release()
    if error:
        attempts = _record_failure(error)
        stream_enqueue(schema_name=schema, countdown=min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 9)))
    elif more or StreamEntry.objects.exists():  # a batch limit, or written while we let go
        stream_enqueue(schema_name=schema)
    return done


def _publish_batches(stream, hold: Hold, batch_size: int, max_batches: int) -> tuple[int, bool, str]:
    slug = _tenant_slug()
    done = 0
    for _ in range(max_batches):
        if hold.renew_due():
            hold.renew()
        with transaction.atomic():
            entries = list(
                StreamEntry.objects.select_for_update().order_by("id").values_list("id", "event_id")[:batch_size]
            )
            if not entries:
                return done, False, ""
            events = Event.objects.in_bulk([event_id for _, event_id in entries])
            result: PublishResult = stream.publish(
                [event_message(events[event_id], tenant_slug=slug) for _, event_id in entries]
            )
            _delete_entries([entry_id for entry_id, _ in entries[: result.acked]])
        done += result.acked
        if result.error:
            logger.warning(
                "the event stream stopped after %d of %d events: %s", result.acked, len(entries), result.error
            )
            return done, False, result.error
        if len(entries) < batch_size:
            return done, False, ""
    return done, True, ""


def _delete_entries(ids: list[int]) -> None:
    """One DELETE, without the ORM's collector (nothing refers to an entry)."""
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {StreamEntry._meta.db_table} WHERE id = ANY(%s)", [ids])  # noqa: S608


def _record_failure(error: str) -> int:
    first = StreamEntry.objects.order_by("id").first()
    if first is None:
        return 0
    StreamEntry.objects.filter(pk=first.pk).update(attempts=F("attempts") + 1, last_error=error[:2000])
    return first.attempts + 1


def stream_sweep(*, grace_seconds: float) -> int:
    """The sweep's part: sends the stream task when entries have waited `grace_seconds` (their task
    was lost, or the stream was down)."""
    if not stream_enabled():
        return 0
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    waiting = StreamEntry.objects.filter(event__occurred_at__lte=cutoff).count()
    if waiting:
        stream_enqueue(schema_name=connection.schema_name)
    return waiting


def _events_in_order(*, since: datetime, until: datetime | None, event_type: str | None, chunk: int) -> Iterator[list]:
    """The current tenant's events from `since` (to `until`), oldest first, `chunk` at a time
    (keyset pages on occurred_at and id: no long transaction, no OFFSET)."""
    events = Event.objects.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    if event_type:
        events = events.filter(type=event_type)
    after = None
    while True:
        page = events
        if after is not None:
            page = page.filter(occurred_at__gte=after[0]).exclude(occurred_at=after[0], id__lte=after[1])
        rows = list(page.order_by("occurred_at", "id")[:chunk])
        if not rows:
            return
        yield rows
        after = (rows[-1].occurred_at, rows[-1].id)


def events_replay(
    *,
    since: datetime,
    replay_id: str,
    until: datetime | None = None,
    event_type: str | None = None,
    url: str | None = None,
    batch_size: int | None = None,
    progress=None,
) -> int:
    """Publishes the current tenant's events from `since` again, oldest first, each with the
    message id `<event id>:replay:<replay_id>` and a Hub-Replay header: running the same replay id
    again after a failure resumes it (the stream drops what it already has). Returns how many
    were sent. Raises StreamUnavailable or StreamPublishFailed."""
    batch_size = batch_size or settings.HUB_EVENT_STREAM_BATCH
    slug = _tenant_slug()
    total = Event.objects.filter(occurred_at__gte=since)
    if until is not None:
        total = total.filter(occurred_at__lt=until)
    if event_type:
        total = total.filter(type=event_type)
    if progress is not None:
        progress.start(f"{slug}: events", total.count())
    sent = 0
    with stream_open(url) as stream:
        for rows in _events_in_order(since=since, until=until, event_type=event_type, chunk=batch_size):
            result = stream.publish([event_message(e, tenant_slug=slug, replay=replay_id) for e in rows])
            sent += result.acked
            if progress is not None:
                progress.advance(result.acked)
            if result.error:
                raise StreamPublishFailed(
                    f"the stream stopped after {sent} events: {result.error}; run the replay again with "
                    f"--replay-id {replay_id} to go on where it stopped"
                )
    if progress is not None:
        progress.finish(f"{sent:,} events")
    return sent
