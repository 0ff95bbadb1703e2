"""Webhooks per Standard Webhooks, delivered to a real HTTP receiver on 127.0.0.1."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.events.models import Event
from apps.notifications import signing, webhooks
from apps.notifications.models import Notification, WebhookDelivery, WebhookEndpoint
from tests.conftest import client_for, committed
from tests.events.fixtures import add_member

PAYLOAD = {"changes": {"name": {"old": "A", "new": "B"}}}


@pytest.fixture
def endpoint(in_tenant_a, receiver):
    return webhooks.endpoint_create(url=receiver.url(), event_types=["organisation.settings_changed"])


def publish_one(tenant, payload=PAYLOAD):
    return publish("organisation.settings_changed", payload, tenant=tenant)


def deliveries(endpoint):
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("created"))


def test_standard_webhooks_reference_signature():
    # The example of the Standard Webhooks reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_event_is_delivered_signed_and_logged(in_tenant_a, endpoint, receiver, run_now):
    event = run_now(lambda: publish_one(in_tenant_a))
    [request] = receiver.wait_for(1)
    assert request.headers["webhook-id"] == "msg_" + event.pk.hex
    assert request.headers["content-type"] == "application/json"
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 30
    assert signing.verify(
        endpoint.secret,
        request.headers["webhook-id"],
        request.headers["webhook-timestamp"],
        request.body,
        request.headers["webhook-signature"],
    )
    assert json.loads(request.body) == {
        "type": "organisation.settings_changed",
        "timestamp": event.occurred_at.isoformat(),
        "data": PAYLOAD,
    }
    [delivery] = deliveries(endpoint)
    assert delivery.status == "succeeded" and delivery.attempt_count == 1
    [attempt] = delivery.attempts.all()
    assert attempt.response_status == 200 and attempt.response_body == "ok"
    assert attempt.request_headers["webhook-id"] == delivery.message_id
    assert attempt.duration_ms >= 0


def test_endpoint_gets_only_its_event_types(in_tenant_a, endpoint, receiver, run_now):
    other = webhooks.endpoint_create(url=receiver.url("/all"), event_types=[])
    run_now(lambda: add_member_and_change_role(in_tenant_a))
    assert deliveries(endpoint) == []
    assert [d.event_type for d in deliveries(other)] == ["member.role_changed"]


def add_member_and_change_role(tenant):
    from apps.identity.models import Membership
    from apps.identity.services import membership_change_role

    member = add_member(tenant, "hooked@example.com")
    owner = Membership.objects.get(tenant=tenant, role="owner")
    membership_change_role(actor=owner, membership=member, role="admin")


def test_one_at_a_time_a_batch_of_events_reaches_each_endpoint_in_order_over_one_connection(
    in_tenant_a, endpoint, receiver, run_now, settings
):
    settings.HUB_WEBHOOK_ENDPOINT_CONCURRENCY = 1
    other = webhooks.endpoint_create(url=receiver.url("/other"), event_types=[])

    def publish_three():
        with transaction.atomic():  # committed together: one dispatch, one delivery task per endpoint
            return [publish_one(in_tenant_a, {"changes": {"name": {"old": "A", "new": f"B{i}"}}}) for i in range(3)]

    events = run_now(publish_three)
    requests = receiver.wait_for(6)
    expected = [webhooks.message_id_for(e.pk) for e in events]
    for path in ("/hook", "/other"):
        sent = [r for r in requests if r.path == path]
        assert [r.headers["webhook-id"] for r in sent] == expected  # each event once, oldest first
        assert len({r.client_port for r in sent}) == 1  # one kept-alive connection
    for each in (endpoint, other):
        assert [d.status for d in deliveries(each)] == ["succeeded"] * 3
        assert all(d.attempts.count() == 1 and d.leased_until is None for d in deliveries(each))


def test_a_leased_delivery_waits_for_its_lease_to_expire(in_tenant_a, endpoint, receiver, run_now):
    """A worker sending a delivery holds a lease on it, not a row lock: no other worker takes it
    while the lease runs; once it has expired (the worker died), the sweep sends it again."""
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id="msg_leased",
        event_type="organisation.settings_changed",
        body="{}",
        next_attempt_at=now,
        enqueued_at=now - timedelta(hours=1),
        leased_until=now + timedelta(seconds=30),
    )
    assert webhooks.endpoint_deliver_due(endpoint_id=endpoint.pk) == 0
    assert run_now(webhooks.deliveries_sweep) == 0
    assert receiver.requests == []

    WebhookDelivery.objects.filter(pk=delivery.pk).update(leased_until=now - timedelta(seconds=1))
    assert run_now(webhooks.deliveries_sweep) == 1
    [request] = receiver.wait_for(1)
    assert request.headers["webhook-id"] == "msg_leased"
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.leased_until is None


def test_no_row_is_locked_while_the_request_is_in_flight(tenant_a, receiver):
    receiver.default = (200, {}, b"ok", 1.0)  # a slow endpoint

    def setup():
        with tenant_context(tenant_a):
            endpoint = webhooks.endpoint_create(url=receiver.url(), event_types=[])
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint, message_id="msg_slow", event_type="t", body="{}", next_attempt_at=timezone.now()
            )
            return endpoint.pk, delivery.pk

    def in_tenant(work):
        def run():
            with tenant_context(tenant_a):
                return work()

        return run

    endpoint_id, delivery_id = committed(setup)
    sending = threading.Thread(
        target=committed, args=[in_tenant(lambda: webhooks.endpoint_deliver_due(endpoint_id=endpoint_id))]
    )
    sending.start()
    try:
        leased = in_tenant(lambda: WebhookDelivery.objects.get(pk=delivery_id).leased_until is not None)
        deadline = time.monotonic() + 5
        while not committed(leased):
            assert time.monotonic() < deadline
            time.sleep(0.02)

        def lock_it():
            with transaction.atomic():
                return WebhookDelivery.objects.select_for_update(nowait=True).get(pk=delivery_id).status

        assert committed(in_tenant(lock_it)) == "pending"  # NOWAIT: nobody holds the row...
        assert receiver.requests == []  # ...while the request is still in flight
    finally:
        sending.join()
        assert committed(in_tenant(lambda: WebhookDelivery.objects.get(pk=delivery_id).status)) == "succeeded"
        committed(in_tenant(lambda: WebhookEndpoint.objects.filter(pk=endpoint_id).delete()))


def test_server_error_is_retried_on_the_schedule_and_succeeds_later(in_tenant_a, endpoint, receiver, run_now):
    receiver.answer(500, body=b"boom")
    run_now(lambda: publish_one(in_tenant_a))
    receiver.wait_for(1)
    [delivery] = deliveries(endpoint)
    assert delivery.status == "pending" and delivery.attempt_count == 1
    delay = (delivery.next_attempt_at - delivery.attempts.get().attempted_at).total_seconds()
    assert 4.0 <= delay <= 6.0  # the 5 s step, with jitter
    assert delivery.attempts.get().response_body == "boom"

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert run_now(lambda: webhooks.delivery_attempt(delivery_id=delivery.pk)) == "succeeded"
    requests = receiver.wait_for(2)
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempt_count == 2
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (400, "failed"),
        (404, "failed"),
        (410, "failed"),
        (408, "retrying"),
        (429, "retrying"),
        (503, "retrying"),
        (302, "retrying"),
    ],
)
def test_4xx_is_final_except_408_and_429(in_tenant_a, endpoint, receiver, run_now, status, outcome):
    receiver.answer(status, headers={"location": receiver.url("/elsewhere")} if status == 302 else {})
    run_now(lambda: publish_one(in_tenant_a))
    receiver.wait_for(1)
    [delivery] = deliveries(endpoint)
    assert {"failed": "failed", "retrying": "pending"}[outcome] == delivery.status
    assert [r.path for r in receiver.requests] == ["/hook"]  # a redirect is not followed


def test_retry_after_is_honoured(in_tenant_a, endpoint, receiver, run_now):
    receiver.answer(503, headers={"retry-after": "120"})
    run_now(lambda: publish_one(in_tenant_a))
    receiver.wait_for(1)
    [delivery] = deliveries(endpoint)
    assert (delivery.next_attempt_at - timezone.now()).total_seconds() > 110


def test_retry_schedule_spans_more_than_a_day():
    delays = [webhooks.next_delay(n) for n in range(8)]
    for got, expected in zip(delays, [0, 5, 300, 1800, 7200, 18000, 36000, 86400], strict=True):
        assert expected * 0.9 <= got <= expected * 1.1
    assert webhooks.next_delay(8) is None
    assert sum(webhooks.RETRY_SCHEDULE) > 24 * 3600


def test_a_slow_endpoint_times_out(in_tenant_a, endpoint, receiver, run_now, settings):
    settings.HUB_WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.answer(200, delay=2.0)
    run_now(lambda: publish_one(in_tenant_a))
    [delivery] = deliveries(endpoint)
    [attempt] = delivery.attempts.all()
    assert attempt.response_status is None and "0.5 s" in attempt.error
    assert attempt.duration_ms < 1500
    assert delivery.status == "pending"


def test_rotation_sends_both_signatures_during_the_overlap(in_tenant_a, endpoint, receiver, run_now):
    old_secret = endpoint.secret
    webhooks.endpoint_rotate_secret(endpoint=endpoint)
    assert endpoint.secret != old_secret and endpoint.secret.startswith("whsec_")
    run_now(lambda: publish_one(in_tenant_a))
    [request] = receiver.wait_for(1)
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    for secret in (endpoint.secret, old_secret):
        assert signing.verify(
            secret,
            request.headers["webhook-id"],
            request.headers["webhook-timestamp"],
            request.body,
            request.headers["webhook-signature"],
        )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    run_now(lambda: publish_one(in_tenant_a))
    request = receiver.wait_for(2)[1]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    assert not signing.verify(
        old_secret,
        request.headers["webhook-id"],
        request.headers["webhook-timestamp"],
        request.body,
        request.headers["webhook-signature"],
    )


def test_secrets_are_encrypted_at_rest(in_tenant_a, endpoint):
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert endpoint.secret.startswith("whsec_")
    assert "whsec_" not in stored and endpoint.secret.removeprefix("whsec_") not in stored


def test_endpoint_failing_for_five_days_is_disabled_and_admins_told(in_tenant_a, endpoint, receiver, run_now, owner_a):
    admin = add_member(in_tenant_a, "hook-admin@example.com", role="admin")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=5, minutes=1))
    receiver.answer(500)
    run_now(lambda: publish_one(in_tenant_a))
    receiver.wait_for(1)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "5 days" in endpoint.disabled_reason
    assert Event.objects.filter(type="webhook.endpoint_disabled").count() == 1
    notified = set(
        Notification.objects.filter(event_type="webhook.endpoint_disabled").values_list("user_id", flat=True)
    )
    assert notified == {owner_a.pk, admin.user_id}
    [delivery] = deliveries(endpoint)
    assert delivery.status == "failed"  # no retries to a disabled endpoint
    run_now(lambda: publish_one(in_tenant_a))
    assert len(deliveries(endpoint)) == 1  # and nothing new is queued for it


def test_failures_shorter_than_five_days_do_not_disable(in_tenant_a, endpoint, receiver, run_now):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=4))
    receiver.answer(500)
    run_now(lambda: publish_one(in_tenant_a))
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_replay_redelivers_every_event_of_a_type_since_a_time(in_tenant_a, endpoint, receiver, run_now, settings):
    settings.HUB_WEBHOOK_ENDPOINT_CONCURRENCY = 1  # one at a time: they arrive oldest first
    now = timezone.now()
    from apps.events.services import event_publish

    old = event_publish(
        event_type="organisation.settings_changed",
        payload=PAYLOAD,
        tenant=in_tenant_a,
        occurred_at=now - timedelta(days=3),
    )
    recent = [
        event_publish(
            event_type="organisation.settings_changed",
            payload=PAYLOAD,
            tenant=in_tenant_a,
            occurred_at=now - timedelta(hours=h),
        )
        for h in (5, 2)
    ]
    count = run_now(
        lambda: webhooks.endpoint_replay(
            endpoint=endpoint, event_type="organisation.settings_changed", since=now - timedelta(days=1)
        )
    )
    assert count == 2
    requests = receiver.wait_for(2)
    assert [r.headers["webhook-id"] for r in requests] == [webhooks.message_id_for(e.pk) for e in recent]
    assert webhooks.message_id_for(old.pk) not in {r.headers["webhook-id"] for r in requests}


def test_replay_refuses_bad_input(in_tenant_a, endpoint):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        webhooks.endpoint_replay(endpoint=endpoint, event_type="nope", since=timezone.now() + timedelta(days=1))
    assert set(caught.value.message_dict) == {"event_type", "since"}


def test_endpoint_validation_names_the_field(in_tenant_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        webhooks.endpoint_create(url="ftp://example.com/x", event_types=["no.such"])
    assert set(caught.value.message_dict) == {"url", "event_types"}


# --- the dashboard pages ---------------------------------------------------------------------------


def test_admin_adds_an_endpoint_sends_a_test_event_and_resends_it(tenant_a, owner_a, receiver, run_now):
    client = client_for(tenant_a, owner_a)
    response = client.post(
        "/webhooks/", {"url": receiver.url(), "description": "CRM", "event_types": ["member.joined"]}
    )
    assert response.status_code == 302
    endpoint_id = int(response["location"].rstrip("/").split("/")[-1])
    page = client.get(f"/webhooks/{endpoint_id}/")
    assert page.status_code == 200 and b"whsec_" in page.content

    run_now(lambda: client.post(f"/webhooks/{endpoint_id}/test/"))
    [request] = receiver.wait_for(1)
    assert json.loads(request.body)["type"] == "webhook.test"

    with tenant_context(tenant_a):
        [delivery] = WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
    log = client.get(f"/webhooks/{endpoint_id}/deliveries/{delivery.pk}/")
    assert log.status_code == 200 and b"HTTP 200" in log.content and delivery.message_id.encode() in log.content

    run_now(lambda: client.post(f"/webhooks/{endpoint_id}/deliveries/{delivery.pk}/"))
    requests = receiver.wait_for(2)
    assert requests[1].headers["webhook-id"] == requests[0].headers["webhook-id"]


def test_bad_endpoint_form_is_rerendered_with_the_message(tenant_a, owner_a, settings):
    settings.HUB_WEBHOOK_REQUIRE_HTTPS = True
    response = client_for(tenant_a, owner_a).post("/webhooks/", {"url": "http://example.com/hook"})
    assert response.status_code == 400
    assert "The URL must use https." in response.content.decode()


def test_bad_replay_form_is_rerendered(in_tenant_a, endpoint, owner_a):
    response = client_for(in_tenant_a, owner_a).post(
        f"/webhooks/{endpoint.pk}/replay/", {"event_type": "member.joined", "since": "not a date"}
    )
    assert response.status_code == 400
    assert "Enter a valid date/time." in response.content.decode()


def test_members_cannot_manage_webhooks(in_tenant_a, endpoint):
    member = add_member(in_tenant_a, "plain@example.com")
    client = client_for(in_tenant_a, member.user)
    assert client.get("/webhooks/").status_code == 403
    assert client.post(f"/webhooks/{endpoint.pk}/test/").status_code == 403


def test_another_tenants_endpoint_is_not_found(in_tenant_a, endpoint, tenant_b, owner_b):
    client = client_for(tenant_b, owner_b)
    assert client.get(f"/webhooks/{endpoint.pk}/").status_code == 404
    assert client.post(f"/webhooks/{endpoint.pk}/test/").status_code == 404
    assert endpoint.url.encode() not in client.get("/webhooks/").content
    # and a member of alpha cannot reach beta's pages at all
    assert client_for(tenant_b, in_tenant_a.memberships.get(role="owner").user).get("/webhooks/").status_code == 403


def test_rotate_webhook_keys_reencrypts_with_the_newest_key(in_tenant_a, endpoint, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from apps.core import crypto

    old_keys = list(settings.HUB_FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.HUB_FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    crypto._fernet.cache_clear()
    try:
        call_command("rotate_webhook_keys")
        settings.HUB_FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: the secret still opens
        crypto._fernet.cache_clear()
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == endpoint.secret
    finally:
        settings.HUB_FIELD_ENCRYPTION_KEYS = old_keys
        crypto._fernet.cache_clear()
