"""Fair webhook delivery with a real Celery worker: a busy endpoint, or a busy tenant, does not
hold up the others. A task serves an endpoint for one turn (HUB_WEBHOOK_SLICE_SECONDS) and then
queues behind the other endpoints' tasks; a tenant has at most HUB_WEBHOOK_TENANT_ENDPOINTS of its
endpoints served at once, the others wait outside the queue."""

import time

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.notifications import webhooks
from apps.notifications.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import committed, subprocess_env
from tests.events.fixtures import forget_holds
from tests.notifications.receiver import Receiver
from tests.processes import celery_worker

pytestmark = pytest.mark.e2e
SETTINGS = {
    "HUB_WEBHOOK_ENDPOINT_CONCURRENCY": "2",
    "HUB_WEBHOOK_TENANT_ENDPOINTS": "1",
    "HUB_WEBHOOK_SLICE_SECONDS": "0.5",
}
ANSWER_SECONDS = 0.2
# The busy endpoints' backlogs take 4 s or more at two requests of 0.2 s at a time.
BACKLOG = 40
PROMPTLY = 2.5


def _backlog(tenant, receiver, path, count) -> int:
    """An endpoint with `count` due deliveries, and its task sent; returns its id."""

    def create():
        with tenant_context(tenant):
            endpoint = webhooks.endpoint_create(url=receiver.url(path), event_types=[])
            now = timezone.now()
            deliveries = WebhookDelivery.objects.bulk_create(
                WebhookDelivery(
                    endpoint=endpoint, message_id=f"msg{path}-{i}", event_type="t", body="{}", next_attempt_at=now
                )
                for i in range(count)
            )
            webhooks.delivery_enqueue_on_commit(deliveries[-1])  # autocommit: sent at once
            return endpoint.pk

    return committed(create)


def _forget(tenant, endpoint_ids):
    def delete():
        with tenant_context(tenant):
            WebhookEndpoint.objects.filter(pk__in=endpoint_ids).delete()

    committed(delete)


def _arrivals(receiver, path) -> list[float]:
    with receiver.lock:
        return [r.at for r in receiver.requests if r.path == path]


def _latency_while_busy(receiver, tenant, path) -> tuple[float, float, int]:
    """Sends one delivery to `path` once the busy endpoints are under way; returns the seconds it
    took to arrive, when it arrived and the new endpoint's id."""
    receiver.wait_for(2, timeout=30)
    sent = time.time()
    endpoint_id = _backlog(tenant, receiver, path, 1)
    deadline = time.monotonic() + 30
    while not _arrivals(receiver, path):
        assert time.monotonic() < deadline, "the delivery never arrived"
        time.sleep(0.02)
    arrived = _arrivals(receiver, path)[0]
    return arrived - sent, arrived, endpoint_id


def _later(receiver, paths, arrived) -> int:
    return sum(1 for path in paths for at in _arrivals(receiver, path) if at > arrived)


@pytest.mark.django_db
def test_a_busy_endpoint_takes_turns_with_the_others(tenant_a):
    forget_holds()
    receiver = Receiver()
    receiver.default = (200, {}, b"ok", ANSWER_SECONDS)
    endpoints = []
    try:
        with receiver, celery_worker(subprocess_env(**SETTINGS)):  # one process
            endpoints.append(_backlog(tenant_a, receiver, "/busy", BACKLOG))
            latency, arrived, quiet = _latency_while_busy(receiver, tenant_a, "/quiet")
            endpoints.append(quiet)
            assert latency < PROMPTLY, f"the quiet endpoint waited {latency:.1f} s for the busy one"
            receiver.wait_for(BACKLOG + 1, timeout=60)
            assert _later(receiver, ["/busy"], arrived) > 0  # it went first: the busy one had more to send
            assert receiver.most_in_flight["/busy"] == 2
    finally:
        _forget(tenant_a, endpoints)


@pytest.mark.django_db
def test_a_busy_tenant_does_not_hold_up_another(tenant_a, tenant_b):
    forget_holds()
    receiver = Receiver()
    receiver.default = (200, {}, b"ok", ANSWER_SECONDS)
    busy_paths = ["/a1", "/a2", "/a3"]
    endpoints, other = [], []
    try:
        with receiver, celery_worker(subprocess_env(**SETTINGS), processes=2):
            endpoints = [_backlog(tenant_a, receiver, path, BACKLOG // 2) for path in busy_paths]
            latency, arrived, quiet = _latency_while_busy(receiver, tenant_b, "/b")
            other.append(quiet)
            assert latency < PROMPTLY, f"tenant B waited {latency:.1f} s for tenant A"
            receiver.wait_for(3 * (BACKLOG // 2) + 1, timeout=60)
            assert _later(receiver, busy_paths, arrived) > 0
            # Tenant A's endpoints were served one at a time: never more than one endpoint's two
            # requests at once (three with tenant B's).
            assert receiver.most_in_flight["*"] <= 3
    finally:
        _forget(tenant_a, endpoints)
        _forget(tenant_b, other)
