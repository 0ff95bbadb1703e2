"""Web Push with VAPID (pywebpush) to a local stand-in for a browser's push service: the message
is signed with the server's VAPID key and encrypted for the browser's key (RFC 8291)."""

import base64
import json
import os

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apps.notifications import services
from apps.notifications.management.commands.vapid_keys import vapid_key_pair
from apps.notifications.models import Notification, PushSubscription
from tests.conftest import client_for
from tests.events.fixtures import add_member


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def vapid(settings):
    settings.HUB_VAPID_PUBLIC_KEY, settings.HUB_VAPID_PRIVATE_KEY = vapid_key_pair()
    settings.HUB_VAPID_SUBJECT = "mailto:ops@example.com"
    return settings.HUB_VAPID_PUBLIC_KEY


@pytest.fixture
def browser_keys():
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return key, b64url(public), os.urandom(16)


def test_browser_subscribes_and_receives_an_encrypted_signed_push(in_tenant_a, owner_a, vapid, browser_keys, receiver):
    key, p256dh, auth = browser_keys
    client = client_for(in_tenant_a, owner_a)
    response = client.post(
        "/notifications/push/subscribe/",
        json.dumps({"endpoint": receiver.url("/push/device-1"), "keys": {"p256dh": p256dh, "auth": b64url(auth)}}),
        content_type="application/json",
    )
    assert response.status_code == 201
    note = Notification.objects.create(user=owner_a, event_type="member.joined", title="Ada joined", url="/members/")

    assert services.push_send(notification_id=note.pk) == 1
    [request] = receiver.wait_for(1)
    assert request.path == "/push/device-1"
    assert request.headers["content-encoding"] == "aes128gcm"
    scheme, _, params = request.headers["authorization"].partition(" ")
    assert scheme == "vapid" and f"k={vapid}" in params.replace(" ", "")
    payload = json.loads(http_ece.decrypt(request.body, private_key=key, auth_secret=auth, version="aes128gcm"))
    assert payload["title"] == "Ada joined"
    assert payload["url"] == "http://alpha.localhost:8000/members/"


def test_a_gone_subscription_is_forgotten(in_tenant_a, owner_a, vapid, browser_keys, receiver):
    _, p256dh, auth = browser_keys
    services.push_subscription_save(user=owner_a, endpoint=receiver.url("/push/old"), p256dh=p256dh, auth=b64url(auth))
    receiver.answer(410, body=b"gone")
    note = Notification.objects.create(user=owner_a, event_type="member.joined", title="x")
    assert services.push_send(notification_id=note.pk) == 0
    assert not PushSubscription.objects.filter(user=owner_a).exists()


def test_subscriptions_to_private_addresses_or_garbage_are_refused(in_tenant_a, owner_a, settings):
    settings.HUB_WEBHOOK_REQUIRE_HTTPS, settings.HUB_WEBHOOK_ALLOW_LOOPBACK = True, False
    client = client_for(in_tenant_a, owner_a)
    bad = client.post(
        "/notifications/push/subscribe/",
        json.dumps({"endpoint": "https://10.0.0.7/push", "keys": {"p256dh": "k", "auth": "a"}}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and "endpoint" in bad.json()["errors"]
    garbage = client.post("/notifications/push/subscribe/", "not json", content_type="application/json")
    assert garbage.status_code == 400
    assert (
        client_for(in_tenant_a)
        .post("/notifications/push/subscribe/", "{}", content_type="application/json")
        .status_code
        == 302
    )


def test_a_member_cannot_take_over_another_members_subscription(in_tenant_a, owner_a, vapid, browser_keys, receiver):
    _, p256dh, auth = browser_keys
    endpoint = receiver.url("/push/owners-phone")
    services.push_subscription_save(user=owner_a, endpoint=endpoint, p256dh=p256dh, auth=b64url(auth))
    intruder = add_member(in_tenant_a, "intruder@alpha.example.com").user
    response = client_for(in_tenant_a, intruder).post(
        "/notifications/push/subscribe/",
        json.dumps({"endpoint": endpoint, "keys": {"p256dh": "intruders-key", "auth": "intruders-secret"}}),
        content_type="application/json",
    )
    assert response.status_code == 400 and "another member" in response.json()["errors"]["endpoint"][0]
    row = PushSubscription.objects.get(endpoint=endpoint)
    assert (row.user_id, row.p256dh, row.auth) == (owner_a.pk, p256dh, b64url(auth))
    # The intruder's notifications go nowhere near the owner's browser; the owner's still do.
    theirs = Notification.objects.create(user=intruder, event_type="member.joined", title="for the intruder")
    assert services.push_send(notification_id=theirs.pk) == 0
    ours = Notification.objects.create(user=owner_a, event_type="member.joined", title="for the owner")
    assert services.push_send(notification_id=ours.pk) == 1
    # The owner may renew their own subscription's keys.
    renewed = b64url(b"\x04" + os.urandom(64))
    services.push_subscription_save(user=owner_a, endpoint=endpoint, p256dh=renewed, auth=b64url(auth))
    assert PushSubscription.objects.get(endpoint=endpoint).p256dh == renewed


def test_vapid_keys_command_prints_a_usable_pair(capsys):
    from django.core.management import call_command

    call_command("vapid_keys")
    out = capsys.readouterr().out
    assert out.startswith("HUB_VAPID_PUBLIC_KEY=") and "HUB_VAPID_PRIVATE_KEY=" in out


def test_push_is_checked_when_sent_and_never_follows_a_redirect(
    in_tenant_a, owner_a, vapid, browser_keys, receiver, settings
):
    _, p256dh, auth = browser_keys
    # Saved while allowed, refused when sending: the check (and the DNS resolution, whose address
    # the connection then uses: ssrf.Session, as for webhooks) happens at send time.
    resolved = services.push_subscription_save(
        user=owner_a, endpoint=f"http://localhost:{receiver.port}/push/a", p256dh=p256dh, auth=b64url(auth)
    )
    note = Notification.objects.create(user=owner_a, event_type="member.joined", title="x")
    settings.HUB_WEBHOOK_ALLOW_LOOPBACK = False
    assert services.push_send(notification_id=note.pk) == 0
    resolved.refresh_from_db()
    assert "not a public address" in resolved.last_error
    assert receiver.requests == []

    settings.HUB_WEBHOOK_ALLOW_LOOPBACK = True
    resolved.delete()
    moved = services.push_subscription_save(
        user=owner_a, endpoint=receiver.url("/push/b"), p256dh=p256dh, auth=b64url(auth)
    )
    receiver.answer(307, headers={"Location": receiver.url("/elsewhere")})
    assert services.push_send(notification_id=note.pk) == 0
    moved.refresh_from_db()
    assert "307" in moved.last_error
    assert [r.path for r in receiver.wait_for(1)] == ["/push/b"]  # the redirect was not followed
