"""Webhook delivery under load: concurrent requests per endpoint (bounded), endpoints of a tenant
served a few at a time, holds renewed while requests run, and a dead worker's work sent again once
its hold has run out. Real HTTP receiver, real PostgreSQL, real Redis."""

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.events import queue
from apps.notifications import webhooks
from apps.notifications.models import WebhookDelivery, WebhookEndpoint
from apps.notifications.tasks import deliver_webhooks
from tests.conftest import committed
from tests.events.fixtures import forget_holds

PAYLOAD = {"changes": {"name": {"old": "A", "new": "B"}}}


@pytest.fixture(autouse=True)
def no_holds():
    forget_holds()


def publish_many(tenant, count):
    with transaction.atomic():  # one commit: every delivery is due at once
        for i in range(count):
            publish("organisation.settings_changed", {"changes": {"name": {"old": "A", "new": f"B{i}"}}}, tenant=tenant)


def hold_of(endpoint, schema_name, lease_seconds=10.0):
    """The hold a worker sending to `endpoint` takes (see webhooks.endpoint_deliver_due)."""
    return queue.Hold(
        deliver_webhooks,
        schema_name=schema_name,
        key=webhooks.queue_key(endpoint.pk),
        args=[endpoint.pk],
        lease_seconds=lease_seconds,
        group="webhooks",
        cap=1,
    )


def test_deliveries_to_one_endpoint_run_concurrently_up_to_the_setting(in_tenant_a, receiver, run_now, settings):
    settings.HUB_WEBHOOK_ENDPOINT_CONCURRENCY = 4
    receiver.default = (200, {}, b"ok", 0.2)
    endpoint = webhooks.endpoint_create(url=receiver.url(), event_types=[])
    run_now(lambda: publish_many(in_tenant_a, 16))
    requests = receiver.wait_for(16)
    assert receiver.most_in_flight["/hook"] == 4  # sent four at a time, never more
    assert len({r.headers["webhook-id"] for r in requests}) == 16  # each once
    assert set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == {"succeeded"}


def in_tenant(tenant, work):
    def run():
        with tenant_context(tenant):
            return work()

    return run


def test_workers_sending_to_one_endpoint_at_once_stay_within_the_bound(tenant_a, receiver, settings):
    """Three workers take the same endpoint's task at the same moment: one serves it, the others
    leave it to that one, so the receiver never sees more than the setting."""
    settings.HUB_WEBHOOK_ENDPOINT_CONCURRENCY = 2
    receiver.default = (200, {}, b"ok", 0.2)

    def setup():
        endpoint = webhooks.endpoint_create(url=receiver.url(), event_types=[])
        now = timezone.now()
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(endpoint=endpoint, message_id=f"msg_{i}", event_type="t", body="{}", next_attempt_at=now)
            for i in range(12)
        )
        return endpoint.pk

    endpoint_id = committed(in_tenant(tenant_a, setup))
    made = []
    workers = [
        threading.Thread(
            target=lambda: made.append(
                committed(in_tenant(tenant_a, lambda: webhooks.endpoint_deliver_due(endpoint_id=endpoint_id)))
            )
        )
        for _ in range(3)
    ]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(made) == [0, 0, 12]
        assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(f"msg_{i}" for i in range(12))
        assert receiver.most_in_flight["/hook"] == 2
    finally:
        committed(in_tenant(tenant_a, lambda: WebhookEndpoint.objects.filter(pk=endpoint_id).delete()))


def test_a_tenants_endpoints_are_served_a_few_at_a_time_and_the_others_wait_their_turn(
    in_tenant_a, receiver, run_now, settings
):
    settings.HUB_WEBHOOK_TENANT_ENDPOINTS = 1
    first = webhooks.endpoint_create(url=receiver.url("/first"), event_types=[])
    webhooks.endpoint_create(url=receiver.url("/second"), event_types=[])
    webhooks.endpoint_create(url=receiver.url("/third"), event_types=[])
    busy = hold_of(first, in_tenant_a.schema_name)
    assert busy.acquire() == "ok"  # a worker is sending to the first endpoint

    run_now(lambda: publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a))
    assert receiver.requests == []  # the first is held; the others wait for the tenant's place

    run_now(busy.release)  # that worker is done: the second's task is sent, then, when it is done, the third's
    assert [r.path for r in receiver.wait_for(2)] == ["/second", "/third"]  # first come, first served
    assert webhooks.endpoint_deliver_due(endpoint_id=first.pk) == 1
    assert sorted(r.path for r in receiver.wait_for(3)) == ["/first", "/second", "/third"]


def test_other_tenants_are_not_held_back_by_a_busy_tenant(in_tenant_a, tenant_b, receiver, settings):
    settings.HUB_WEBHOOK_TENANT_ENDPOINTS = 1
    busy = queue.Hold(
        deliver_webhooks, schema_name=in_tenant_a.schema_name, key="webhooks:0", args=[0], lease_seconds=10,
        group="webhooks", cap=1,
    )
    assert busy.acquire() == "ok"
    try:
        with tenant_context(tenant_b):
            endpoint = webhooks.endpoint_create(url=receiver.url("/b"), event_types=[])
            WebhookDelivery.objects.create(
                endpoint=endpoint, message_id="msg_b", event_type="t", body="{}", next_attempt_at=timezone.now()
            )
            assert webhooks.endpoint_deliver_due(endpoint_id=endpoint.pk) == 1
    finally:
        busy.release()


def test_a_request_longer_than_the_lease_is_not_sent_twice(tenant_a, receiver, settings):
    """The worker renews its hold and its leases while the request runs: another worker (or the
    sweep) does not take the delivery for abandoned."""
    settings.HUB_WEBHOOK_LEASE_SECONDS = 0.4
    receiver.default = (200, {}, b"ok", 1.2)

    def setup():
        endpoint = webhooks.endpoint_create(url=receiver.url(), event_types=[])
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, message_id="msg_long", event_type="t", body="{}", next_attempt_at=timezone.now()
        )
        return endpoint.pk, delivery.pk

    endpoint_id, delivery_id = committed(in_tenant(tenant_a, setup))
    sending = threading.Thread(
        target=committed, args=[in_tenant(tenant_a, lambda: webhooks.endpoint_deliver_due(endpoint_id=endpoint_id))]
    )
    sending.start()
    try:
        time.sleep(0.8)  # twice the lease
        assert committed(in_tenant(tenant_a, lambda: webhooks.endpoint_deliver_due(endpoint_id=endpoint_id))) == 0
        leased_until = committed(in_tenant(tenant_a, lambda: WebhookDelivery.objects.get(pk=delivery_id).leased_until))
        assert leased_until > timezone.now()
    finally:
        sending.join()
    assert [r.headers["webhook-id"] for r in receiver.requests] == ["msg_long"]
    status = committed(in_tenant(tenant_a, lambda: WebhookDelivery.objects.get(pk=delivery_id).status))
    assert status == "succeeded"
    committed(in_tenant(tenant_a, lambda: WebhookEndpoint.objects.filter(pk=endpoint_id).delete()))


def test_a_dead_workers_deliveries_are_sent_again_once_its_hold_runs_out(in_tenant_a, receiver, run_now):
    endpoint = webhooks.endpoint_create(url=receiver.url(), event_types=[])
    dead = hold_of(endpoint, in_tenant_a.schema_name, lease_seconds=0.5)
    assert dead.acquire() == "ok"
    # What the dead worker had leased: the deliveries it was sending, until its hold runs out.
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id="msg_orphan",
        event_type="t",
        body="{}",
        next_attempt_at=timezone.now(),
        enqueued_at=timezone.now(),
        leased_until=datetime.fromtimestamp(dead.until, tz=UTC),
    )
    assert run_now(queue.recover_held) == 0  # still held: maybe the worker is only slow
    assert webhooks.endpoint_deliver_due(endpoint_id=endpoint.pk) == 0
    time.sleep(max(0.0, dead.until - time.time()) + 0.05)

    assert run_now(queue.recover_held) == 1  # its task is sent again, and delivers
    [request] = receiver.wait_for(1)
    assert request.headers["webhook-id"] == "msg_orphan"
    assert WebhookDelivery.objects.get(endpoint=endpoint).status == "succeeded"
    assert run_now(queue.recover_held) == 0


def test_no_task_is_queued_for_an_endpoint_while_a_worker_serves_it(in_tenant_a, django_capture_on_commit_callbacks):
    """The worker serving the endpoint looks for new deliveries as it goes (and once more after it
    lets go): a task queued meanwhile would only find the endpoint held."""
    from config.celery import app

    app.control.purge()
    endpoint = webhooks.endpoint_create(url="http://127.0.0.1:9/hook", event_types=[])
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, message_id="msg_new", event_type="t", body="{}", next_attempt_at=timezone.now()
    )
    serving = hold_of(endpoint, in_tenant_a.schema_name)
    assert serving.acquire() == "ok"
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.delivery_enqueue_on_commit(delivery)
    assert app.control.purge() == 0
    serving.release()
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.delivery_enqueue_on_commit(delivery)
    assert app.control.purge() == 1
