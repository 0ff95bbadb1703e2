"""The event spine when its parts fail: Redis (the queued-once flags) or the broker down, a handler
that raises inside the dispatch task, a tenant with more new events than one task takes, and the
periodic sweep's fan-out. Nothing is lost: events stay in the outbox and are sent later."""

import json
import logging
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.core.registry import EventHandler, Sweeper, registry
from apps.events import services
from apps.events.models import Event
from apps.events.queue import task_enqueue_once, task_started
from apps.events.tasks import dispatch_event, dispatch_events, sweep_all_tenants, sweep_tenant
from apps.tenancy.models import Tenant
from config.celery import app
from config.settings.base import redis_url_for
from tests.conftest import broker_down, cache_redis_down

PAYLOAD = {"changes": {"name": {"old": "A", "new": "B"}}}
pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_queue():
    """The broker's task queue (Redis list "celery"), emptied before and after the test."""
    queue = redis.Redis.from_url(redis_url_for("redis", settings.REDIS_DB_CELERY))
    app.control.purge()
    yield lambda: [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]
    app.control.purge()


@pytest.fixture
def without_cache_redis(settings):
    cache_redis_down(settings)


def schemas_of(messages) -> list[str]:
    return [m["headers"]["_schema_name"] for m in messages]


def test_without_redis_the_dispatch_task_is_sent_every_time(tenant_a, broker_queue, without_cache_redis, caplog):
    for _ in range(2):
        task_enqueue_once(dispatch_events, schema_name=tenant_a.schema_name, key=services.DISPATCH_KEY)
    assert schemas_of(broker_queue()) == ["t_alpha", "t_alpha"]  # no flag to share: one send per commit
    with caplog.at_level(logging.WARNING, logger="apps.events.queue"):
        task_started(schema_name=tenant_a.schema_name, key=services.DISPATCH_KEY)  # does not raise
    assert "could not clear the queued flag dispatch of t_alpha" in caplog.text


def test_with_the_broker_down_the_send_is_given_up_and_the_next_one_is_not_held_back(
    tenant_a, broker_queue, caplog
):
    with caplog.at_level(logging.WARNING, logger="apps.events"):
        with broker_down():
            task_enqueue_once(dispatch_events, schema_name=tenant_a.schema_name, key=services.DISPATCH_KEY)
            services.event_enqueue(event_id="0e1f", schema_name=tenant_a.schema_name)
    assert "could not enqueue dispatch for t_alpha; the sweep will" in caplog.text
    assert "could not enqueue event 0e1f in t_alpha; the sweep will dispatch it" in caplog.text
    # The failed send dropped its queued-once flag: once the broker is back, the next send goes out.
    task_enqueue_once(dispatch_events, schema_name=tenant_a.schema_name, key=services.DISPATCH_KEY)
    assert schemas_of(broker_queue()) == ["t_alpha"]


def test_the_dispatch_task_retries_a_failing_event_until_it_goes_through(tenant_a):
    calls = []

    def flaky(event):
        calls.append(event.pk)
        if len(calls) == 1:
            raise ConnectionError("the handler's service is down")

    with tenant_context(tenant_a):
        event = publish("organisation.settings_changed", PAYLOAD, tenant=tenant_a)
        with registry.registered(EventHandler("organisation.settings_changed", flaky)):
            result = dispatch_event.apply(args=[str(event.pk)])
        event.refresh_from_db()
    assert result.successful() and result.result is True
    assert calls == [event.pk, event.pk]
    assert event.dispatched_at is not None
    assert event.attempts == 2  # the failed attempt is counted
    assert event.last_error == ""


def test_a_busy_outbox_hands_over_to_a_new_task(tenant_a, broker_queue):
    with tenant_context(tenant_a):
        for i in range(3):
            publish("organisation.settings_changed", {"changes": {"n": {"old": i, "new": i + 1}}}, tenant=tenant_a)
        assert services.events_dispatch_new(batch_size=1, max_batches=2) == 2
        assert Event.objects.filter(dispatched_at__isnull=True).count() == 1
    assert schemas_of(broker_queue()) == ["t_alpha"]  # the rest is another task's


def test_the_sweep_fans_out_to_active_tenants_only(tenant_a, tenant_b, broker_queue):
    Tenant.objects.filter(pk=tenant_b.pk).update(status=Tenant.Status.SUSPENDED)
    active = set(
        Tenant.objects.exclude(schema_name="public")
        .filter(status=Tenant.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )
    assert sweep_all_tenants() == len(active)
    assert set(schemas_of(broker_queue())) == active
    assert "t_alpha" in active and "t_beta" not in active


def test_a_tenant_sweep_runs_every_registered_sweeper_once(tenant_a, broker_queue):
    runs = []

    def sweeper():
        runs.append(1)
        return 2

    item = Sweeper("test-sweeper", sweeper)
    with registry.registered(item, item):  # registering twice does not run it twice
        with tenant_context(tenant_a):
            left = publish("organisation.settings_changed", PAYLOAD, tenant=tenant_a)
            Event.objects.filter(pk=left.pk).update(occurred_at=timezone.now() - timedelta(hours=1))
            assert sweep_tenant.apply().result == 1 + 2  # the event left behind, plus the sweeper's
    assert runs == [1]
    assert schemas_of(broker_queue()) == ["t_alpha"]  # the outbox task for the event left behind


def test_a_handler_subscribed_twice_runs_once_and_stays_a_batch_handler_for_its_other_types(in_tenant_a):
    seen = []

    def handler(events):
        seen.append(sorted(e.type for e in events))

    joined_item = EventHandler("member.joined", handler, batch=True)
    changed_item = EventHandler("organisation.settings_changed", handler, batch=True)
    registry.register(joined_item, changed_item, changed_item)
    registry.unregister(changed_item)
    registry.unregister(changed_item)  # not subscribed any more: nothing to do
    try:
        joined = publish(
            "member.joined", {"user_id": 1, "email": "a@example.com", "role": "member"}, tenant=in_tenant_a
        )
        publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)
        assert services.events_dispatch_new() == 2
    finally:
        registry.unregister(joined_item)
    assert seen == [["member.joined"]]  # called once, with a list: still a batch handler
    assert str(Event.objects.get(pk=joined.pk)).startswith("member.joined at ")
