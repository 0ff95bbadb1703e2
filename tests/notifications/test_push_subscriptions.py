"""Web Push subscriptions at their edges: keys missing, unsubscribing (with bad input), and the
push sent after commit only to members who subscribed."""

import json

from django.conf import settings as django_settings

from apps.notifications import services
from apps.notifications.models import PushSubscription
from tests.conftest import client_for
from tests.notifications.test_push import vapid  # noqa: F401

ENDPOINT = "http://127.0.0.1:9/push/device"


def post_json(client, path, body):
    return client.post(path, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


def test_a_subscription_without_its_keys_is_refused_naming_them(in_tenant_a, owner_a):
    response = post_json(client_for(in_tenant_a, owner_a), "/notifications/push/subscribe/", {"endpoint": ENDPOINT})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"p256dh", "auth"}
    assert not PushSubscription.objects.filter(user=owner_a).exists()


def test_unsubscribing_deletes_only_ones_own_subscription(in_tenant_a, owner_a, owner_b):
    services.push_subscription_save(user=owner_a, endpoint=ENDPOINT, p256dh="k" * 20, auth="a" * 16)
    client = client_for(in_tenant_a, owner_a)
    assert post_json(client, "/notifications/push/unsubscribe/", "not json").status_code == 400
    assert post_json(client, "/notifications/push/unsubscribe/", {"endpoint": ENDPOINT}).json() == {"deleted": 1}
    assert post_json(client, "/notifications/push/unsubscribe/", {"endpoint": ENDPOINT}).json() == {"deleted": 0}
    assert not PushSubscription.objects.filter(endpoint=ENDPOINT).exists()


def test_a_push_is_queued_after_commit_for_subscribed_members_only(
    in_tenant_a, owner_a, owner_b, vapid, django_capture_on_commit_callbacks  # noqa: F811
):
    import redis

    from config.celery import app
    from config.settings.base import redis_url_for

    queue = redis.Redis.from_url(redis_url_for("redis", django_settings.REDIS_DB_CELERY))
    services.push_subscription_save(user=owner_a, endpoint=ENDPOINT, p256dh="k" * 20, auth="a" * 16)
    app.control.purge()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            mine = services.notification_create(user_id=owner_a.pk, event_type="member.joined", title="Ada joined")
            services.notification_create(user_id=owner_b.pk, event_type="member.joined", title="Not subscribed")
        tasks = [json.loads(raw)["headers"] for raw in queue.lrange("celery", 0, -1)]
    finally:
        app.control.purge()
    pushes = [t for t in tasks if t["task"] == "apps.notifications.tasks.send_push"]
    assert [t["argsrepr"] for t in pushes] == [f"[{mine.pk}]"]  # one push task, for the subscribed member
    assert all(t["_schema_name"] == "t_alpha" for t in pushes)


def test_nothing_is_pushed_without_vapid_keys_or_for_a_missing_notification(in_tenant_a, owner_a, settings):
    settings.HUB_VAPID_PRIVATE_KEY = ""
    note = services.notification_create(user_id=owner_a.pk, event_type="member.joined", title="x")
    assert services.push_send(notification_id=note.pk) == 0
    assert services.push_send(notification_id=999999) == 0
