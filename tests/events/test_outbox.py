"""publish() writes an outbox row in the caller's transaction; the dispatcher runs the handlers
of its type once; the sweep re-dispatches what is left behind."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.core.registry import EventHandler, registry
from apps.events.models import Event
from apps.events.services import (
    MAX_DISPATCH_ATTEMPTS,
    InvalidPayload,
    UnknownEventType,
    event_dispatch,
    events_dispatch_new,
    events_sweep,
)
from apps.notifications.models import Notification

PAYLOAD = {"changes": {"name": {"old": "A", "new": "B"}}}


@pytest.fixture
def recorder():
    seen = []

    def handler(event):
        seen.append((event.type, connection.schema_name, event.payload))

    registry.register(EventHandler("organisation.settings_changed", handler))
    yield seen
    registry.unregister(EventHandler("organisation.settings_changed", handler))


def test_publish_writes_an_outbox_row_in_the_tenants_schema(tenant_a, tenant_b, owner_a):
    event = publish("organisation.settings_changed", PAYLOAD, tenant=tenant_a, actor=owner_a)
    assert connection.schema_name == "public"  # publishing does not leave the caller in another schema
    with tenant_context(tenant_a):
        stored = Event.objects.get(pk=event.pk)
        assert stored.type == "organisation.settings_changed"
        assert stored.payload == PAYLOAD
        assert stored.actor_id == owner_a.pk
        assert stored.dispatched_at is None
    with tenant_context(tenant_b):
        assert not Event.objects.filter(pk=event.pk).exists()


def test_publish_is_part_of_the_callers_transaction(tenant_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        event = publish("organisation.settings_changed", PAYLOAD, tenant=tenant_a)
        raise RuntimeError("the caller fails after publishing")
    with tenant_context(tenant_a):
        assert not Event.objects.filter(pk=event.pk).exists()


def test_dispatch_is_enqueued_only_after_commit(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish("organisation.settings_changed", PAYLOAD, tenant=tenant_a)
    assert len(callbacks) == 2  # the outbox's dispatch, and the bump of the cached reads it touches


def test_unknown_type_and_bad_payload_are_refused(tenant_a):
    with pytest.raises(UnknownEventType):
        publish("no.such.event", {}, tenant=tenant_a)
    with pytest.raises(InvalidPayload, match="changes"):
        publish("organisation.settings_changed", {"name": "x"}, tenant=tenant_a)
    with pytest.raises(ValueError, match="public"):
        publish("organisation.settings_changed", PAYLOAD, tenant=None)


def test_dispatcher_runs_each_handler_once_in_the_tenants_schema(in_tenant_a, recorder):
    event = publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)
    assert event_dispatch(event_id=event.pk) is True
    assert recorder == [("organisation.settings_changed", "t_alpha", PAYLOAD)]
    event.refresh_from_db()
    assert event.dispatched_at is not None and event.attempts == 1
    assert event_dispatch(event_id=event.pk) is False  # already dispatched: handlers do not run again
    assert len(recorder) == 1


def test_a_failing_handler_rolls_back_every_handler_and_records_the_error(in_tenant_a, recorder):
    def broken(event):
        Event.objects.create(type="side.effect", payload={}, occurred_at=timezone.now())
        raise ConnectionError("the handler's service is down")

    registry.register(EventHandler("organisation.settings_changed", broken))
    try:
        event = publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)
        with pytest.raises(ConnectionError):
            event_dispatch(event_id=event.pk)
    finally:
        registry.unregister(EventHandler("organisation.settings_changed", broken))
    event.refresh_from_db()
    assert event.dispatched_at is None
    assert event.attempts == 1
    assert "the handler's service is down" in event.last_error
    assert not Event.objects.filter(type="side.effect").exists()
    # Once the handler is fixed, dispatching again delivers it.
    assert event_dispatch(event_id=event.pk) is True


def publish_many(tenant, count):
    """`count` events committed together (one transaction), as a busy tenant's outbox fills up."""
    with transaction.atomic():
        return [
            publish("organisation.settings_changed", {"changes": {"name": {"old": "A", "new": f"B{i}"}}}, tenant=tenant)
            for i in range(count)
        ]


def test_one_outbox_task_dispatches_every_new_event_once(
    in_tenant_a, recorder, eager_tasks, django_capture_on_commit_callbacks
):
    batches = []

    def batch_handler(events):
        batches.append([event.pk for event in events])

    registry.register(EventHandler("organisation.settings_changed", batch_handler, batch=True))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            events = publish_many(in_tenant_a, 5)
    finally:
        registry.unregister(EventHandler("organisation.settings_changed", batch_handler))
    assert batches == [[event.pk for event in events]]  # once, with every event, oldest first
    assert len(recorder) == 5  # a plain handler: once per event
    assert not Event.objects.filter(pk__in=[e.pk for e in events], dispatched_at__isnull=True).exists()
    assert events_dispatch_new() == 0  # nothing is dispatched twice
    assert len(recorder) == 5


def test_a_failing_event_does_not_hold_back_the_rest_of_its_batch(in_tenant_a):
    def broken(event):
        if event.payload["changes"]["name"]["new"] == "B2":
            raise ConnectionError("the handler's service is down")

    events = publish_many(in_tenant_a, 4)
    registry.register(EventHandler("organisation.settings_changed", broken))
    try:
        assert events_dispatch_new(batch_size=10) == 3
    finally:
        registry.unregister(EventHandler("organisation.settings_changed", broken))
    failed = Event.objects.get(pk=events[2].pk)
    assert failed.dispatched_at is None and failed.attempts == 1 and "service is down" in failed.last_error
    others = Event.objects.filter(pk__in=[e.pk for i, e in enumerate(events) if i != 2])
    assert all(e.dispatched_at is not None and e.attempts == 1 for e in others)
    # What the handlers wrote (the owner's notification) survives once for each good event, and
    # not at all for the failed one.
    notified = Counter(
        Notification.objects.filter(event_id__in=[e.pk for e in events]).values_list("event_id", flat=True)
    )
    assert notified == {e.pk: 1 for i, e in enumerate(events) if i != 2}
    # A failed event is the sweep's (with backoff), not the next outbox task's.
    assert events_dispatch_new() == 0
    assert Event.objects.get(pk=failed.pk).attempts == 1


def test_the_outbox_task_is_queued_once_until_it_starts(tenant_a):
    import redis
    from django.conf import settings

    from apps.events.queue import task_enqueue_once, task_started
    from apps.events.services import DISPATCH_KEY
    from apps.events.tasks import dispatch_events
    from config.celery import app
    from config.settings.base import redis_url_for

    queued = redis.Redis.from_url(redis_url_for("redis", settings.REDIS_DB_CELERY))  # the broker's database
    app.control.purge()
    try:
        for _ in range(3):
            task_enqueue_once(dispatch_events, schema_name=tenant_a.schema_name, key=DISPATCH_KEY)
        assert queued.llen("celery") == 1
        # The other tenant's outbox has a task of its own.
        task_enqueue_once(dispatch_events, schema_name="t_other", key=DISPATCH_KEY)
        assert queued.llen("celery") == 2
        # Once the task has started, what commits next needs another one.
        task_started(schema_name=tenant_a.schema_name, key=DISPATCH_KEY)
        task_enqueue_once(dispatch_events, schema_name=tenant_a.schema_name, key=DISPATCH_KEY)
        assert queued.llen("celery") == 3
    finally:
        app.control.purge()


def test_sweep_redispatches_events_left_undispatched(in_tenant_a, recorder, eager_tasks):
    long_ago = timezone.now() - timedelta(minutes=5)
    lost = publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)  # its task was lost
    failed = publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)  # a handler raised once
    given_up = publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)
    Event.objects.filter(pk=lost.pk).update(occurred_at=long_ago)
    Event.objects.filter(pk=failed.pk).update(occurred_at=long_ago, attempts=1, last_error="boom")
    Event.objects.filter(pk=given_up.pk).update(occurred_at=long_ago, attempts=MAX_DISPATCH_ATTEMPTS)
    fresh = publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)
    Event.objects.create(
        type="organisation.settings_changed",
        payload=PAYLOAD,
        occurred_at=timezone.now() - timedelta(hours=1),
        dispatched_at=timezone.now(),
    )
    assert events_sweep(grace_seconds=60) == 2  # the lost and the failed one
    # The lost one goes through the outbox task, which takes every new event (the fresh one too);
    # the failed one through a task of its own; the one that failed too often is left alone.
    dispatched = set(Event.objects.filter(dispatched_at__isnull=False).values_list("pk", flat=True))
    assert {lost.pk, failed.pk, fresh.pk} <= dispatched
    assert given_up.pk not in dispatched
    assert len(recorder) == 3


def test_a_dead_workers_outbox_task_is_sent_again_once_its_hold_runs_out(in_tenant_a, recorder, eager_tasks):
    import time

    from apps.events.queue import Hold, recover_held
    from apps.events.services import DISPATCH_KEY
    from apps.events.tasks import dispatch_events
    from tests.events.fixtures import forget_holds

    forget_holds()
    # A worker took the outbox (its hold lasts 0.3 s) and died before the event was dispatched.
    dead = Hold(dispatch_events, schema_name=in_tenant_a.schema_name, key=DISPATCH_KEY, lease_seconds=0.3,
                exclusive=False)
    dead.acquire()
    event = publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)
    assert recover_held() == 0  # maybe it is only slow
    time.sleep(max(0.0, dead.until - time.time()) + 0.05)
    assert recover_held() == 1  # its task is sent again (here: run at once)
    assert Event.objects.get(pk=event.pk).dispatched_at is not None
    assert len(recorder) == 1


def test_event_types_are_declared_with_description_and_schema():
    for name in [
        "member.joined",
        "member.role_changed",
        "member.removed",
        "invitation.sent",
        "invitation.accepted",
        "organisation.settings_changed",
        "webhook.endpoint_disabled",
    ]:
        event_type = registry["event_types"][name]
        assert event_type.description
        assert event_type.payload_schema["type"] == "object"
