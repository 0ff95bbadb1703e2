"""Writes on notifications, preferences, e-mail and Web Push."""

import json
import logging
from functools import partial
from types import SimpleNamespace

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apps.core import realtime, ssrf
from apps.core.caching import topics_bump_on_commit
from apps.core.memo import memo_scope
from apps.core.registry import NotificationRule, registry
from apps.core.taskref import TaskRef
from apps.identity.models import User
from apps.tenancy.emails import email_message, email_subject
from apps.tenancy.services import tenant_url

from .models import Channel, Notification, NotificationPreference, PushSubscription
from .selectors import unread_count
from .webhooks import destination_policy

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
SEND_PUSH = TaskRef("apps.notifications.tasks.send_push")
SEND_EMAIL = TaskRef("apps.notifications.tasks.send_notification_email")


# --- preferences ------------------------------------------------------------------------------


def preference_channel(*, user_id: int, event_type: str) -> str:
    chosen = NotificationPreference.objects.filter(user_id=user_id, event_type=event_type).values_list(
        "channel", flat=True
    )
    if chosen:
        return chosen[0]
    rule = registry["notification_rules"].get(event_type)
    return rule.default_channel if rule else Channel.IN_APP


def preference_set(*, user: User, event_type: str, channel: str) -> NotificationPreference:
    if event_type not in registry["event_types"]:
        raise ValidationError({"event_type": [f"Unknown event type “{event_type}”."]})
    if channel not in Channel.values:
        raise ValidationError({"channel": [f"Choose one of: {', '.join(Channel.values)}."]})
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, event_type=event_type, defaults={"channel": channel}
    )
    return preference


def unsubscribe_token(*, user_id: int, event_type: str, schema_name: str | None = None) -> str:
    return signing.dumps(
        {"s": schema_name or connection.schema_name, "u": user_id, "t": event_type}, salt=UNSUBSCRIBE_SALT
    )


def unsubscribe_read(*, token: str, schema_name: str) -> tuple[int, str] | None:
    """(user id, event type) of a valid link for this tenant, or None."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if data.get("s") != schema_name:
        return None
    return data["u"], data["t"]


def email_unsubscribe(*, user_id: int, event_type: str) -> str:
    """Stops e-mail for one event type, keeping in-app notifications if they were on."""
    current = preference_channel(user_id=user_id, event_type=event_type)
    channel = Channel.IN_APP if current in (Channel.BOTH, Channel.IN_APP) else Channel.NONE
    NotificationPreference.objects.update_or_create(
        user_id=user_id, event_type=event_type, defaults={"channel": channel}
    )
    return channel


# --- notifications ------------------------------------------------------------------------------


def notification_create(
    *, user_id: int, event_type: str, title: str, body: str = "", url: str = "", event=None, channel: str | None = None
) -> Notification | None:
    """Creates the notification as the member's preference says; e-mail, push and the live update
    go out after commit. Returns None when the member wants nothing for this event type."""
    channel = channel or preference_channel(user_id=user_id, event_type=event_type)
    if channel == Channel.NONE:
        return None
    notification = _notification(user_id, event_type, title, body, url, event, channel)
    notification.save()
    _send_on_commit([(notification, channel)])
    return notification


def _notification(user_id, event_type, title, body, url, event, channel) -> Notification:
    return Notification(
        user_id=user_id,
        event=event,
        event_type=event_type,
        title=title[:200],
        body=body,
        url=url,
        in_app=channel in (Channel.IN_APP, Channel.BOTH),
    )


def _send_on_commit(created: list[tuple[Notification, str]]) -> None:
    """After commit: the live update of in-app notifications, their Web Push, and the e-mails."""
    schema = connection.schema_name
    if created:  # first, so the live push below reads the new unread count, not a cached one
        topics_bump_on_commit("notification")
    live = [notification for notification, _ in created if notification.in_app]
    if live:
        transaction.on_commit(partial(notifications_push_live, notifications=live, schema_name=schema))
        if settings.HUB_VAPID_PRIVATE_KEY:
            subscribed = set(
                PushSubscription.objects.filter(user_id__in={n.user_id for n in live}).values_list("user_id", flat=True)
            )
            for notification in live:
                if notification.user_id in subscribed:
                    transaction.on_commit(partial(_enqueue, SEND_PUSH, notification.pk, schema))
    for notification, channel in created:
        if channel in (Channel.EMAIL, Channel.BOTH):
            transaction.on_commit(partial(_enqueue, SEND_EMAIL, notification.pk, schema))


def _enqueue(task: TaskRef, notification_id: int, schema_name: str) -> None:
    try:
        task.apply_async(args=[notification_id], headers={"_schema_name": schema_name})
    except Exception:  # noqa: BLE001
        logger.exception("could not enqueue %s for notification %s", task.name.rpartition(".")[2], notification_id)


def notification_as_dict(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "event_type": notification.event_type,
        "event_label": registry.event_label(notification.event_type),
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created": notification.created.isoformat(),
        "read": notification.read_at is not None,
    }


def notifications_push_live(*, notifications: list[Notification], schema_name: str) -> None:
    """Each notification to its member's open pages, with the member's unread count (read once)."""
    unread: dict[int, int] = {}
    for notification in notifications:
        if notification.user_id not in unread:
            unread[notification.user_id] = unread_count(user_id=notification.user_id)
        realtime.group_send(
            realtime.user_group(schema_name, notification.user_id),
            {
                "type": "hub.notification",
                "notification": notification_as_dict(notification),
                "unread": unread[notification.user_id],
            },
        )


def notification_mark_read(*, user: User, notification_id: int) -> int:
    updated = Notification.objects.filter(user=user, pk=notification_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    _push_unread(user.pk)
    return updated


def notification_mark_all_read(*, user: User) -> int:
    updated = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    _push_unread(user.pk)
    return updated


def _push_unread(user_id: int) -> None:
    schema = connection.schema_name
    topics_bump_on_commit("notification")
    transaction.on_commit(
        lambda: realtime.group_send(
            realtime.user_group(schema, user_id), {"type": "hub.unread", "unread": unread_count(user_id=user_id)}
        )
    )


def notify_for_events(events) -> None:
    """Event handler (batch): one notification per recipient of each event type's rule (never the
    actor), as each member's preference says; written in bulk."""
    wanted = []
    rules = registry["notification_rules"]
    with memo_scope():  # each tenant's admins are read once for the whole batch
        for event in events:
            rule: NotificationRule | None = rules.get(event.type)
            if rule is not None:
                recipients = {r for r in rule.recipients(event) if r and r != event.actor_id}
                if recipients:
                    wanted.append((event, rule, recipients))
    if not wanted:
        return
    everyone = set().union(*(recipients for _, _, recipients in wanted))
    active = set(User.objects.filter(pk__in=everyone, is_active=True).values_list("pk", flat=True))
    chosen = {
        (user_id, event_type): channel
        for user_id, event_type, channel in NotificationPreference.objects.filter(
            user_id__in=active, event_type__in={event.type for event, _, _ in wanted}
        ).values_list("user_id", "event_type", "channel")
    }
    created = []
    for event, rule, recipients in wanted:
        title = rule.title(event) if rule.title else registry.event_sentence(event)
        body = rule.body(event) if rule.body else ""
        url = rule.url or registry.event_url(event)
        for user_id in sorted(recipients & active):
            channel = chosen.get((user_id, event.type), rule.default_channel)
            if channel != Channel.NONE:
                created.append((_notification(user_id, event.type, title, body, url, event, channel), channel))
    Notification.objects.bulk_create([notification for notification, _ in created])
    _send_on_commit(created)


def live_event(event) -> None:
    """Event handler: every open dashboard of the tenant hears about the event, after commit, and
    every GraphQL subscription to the tenant's events (apps.notifications.graphql). The dashboards
    get `event` only; `data` (the payload) is for the subscriptions, whose callers may read it."""
    schema = connection.schema_name
    message = {
        "type": "hub.event",
        "event": {
            "id": str(event.pk),
            "type": event.type,
            "text": registry.event_sentence(event),
            "url": registry.event_url(event),
            "occurred_at": event.occurred_at.isoformat(),
        },
        "data": event.payload,
    }
    transaction.on_commit(lambda: realtime.group_send(realtime.tenant_group(schema), message))
    if event.type == "member.removed" and event.payload.get("user_id"):
        # A removed member's open pages lose their live connection at once.
        group = realtime.user_group(schema, event.payload["user_id"])
        transaction.on_commit(lambda: realtime.group_send(group, {"type": "hub.close"}))


# --- e-mail -------------------------------------------------------------------------------------


def notification_email_send(*, notification_id: int) -> bool:
    """Sends the notification's e-mail once (HTML and text, with a one-click unsubscribe)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().select_related("user").filter(pk=notification_id).first()
        )
        if notification is None or notification.emailed_at is not None or not notification.user.is_active:
            return False
        tenant = connection.tenant
        token = unsubscribe_token(user_id=notification.user_id, event_type=notification.event_type)
        unsubscribe_url = tenant_url(tenant, f"/notifications/unsubscribe/{token}/")
        event_type = registry["event_types"].get(notification.event_type)
        rule = registry["notification_rules"].get(notification.event_type)
        actions = rule.email_actions(notification) if rule is not None and rule.email_actions else []
        context = {
            "actions": [(label, tenant_url(tenant, path)) for label, path in actions],
            "notification": notification,
            "tenant": tenant,
            "url": tenant_url(tenant, notification.url or "/notifications/"),
            "unsubscribe_url": unsubscribe_url,
            "preferences_url": tenant_url(tenant, "/notifications/preferences/"),
            "event_description": event_type.description if event_type else notification.event_type,
        }
        message = email_message(
            subject=email_subject(notification.title, tenant),
            to=[notification.user.email],
            text=render_to_string("notifications/email/notification.txt", context),
            html_template="notifications/email/notification.html",
            context=context,
            tenant=tenant,
            headers={
                # RFC 2369 and RFC 8058: mail clients offer a one-click unsubscribe (a POST to the URL).
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": f"{tenant.name} notifications <notifications.{tenant.slug}.{settings.HUB_BASE_HOSTNAME}>",
                "Auto-Submitted": "auto-generated",
            },
        )
        message.send()
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


# --- Web Push -----------------------------------------------------------------------------------


def push_subscription_save(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Saves the browser's subscription for `user`, or refreshes its keys. A subscription belongs
    to the member who saved it: an endpoint another member holds is refused, never taken over."""
    errors = {}
    try:
        endpoint = ssrf.destination_clean(endpoint or "", destination_policy())
    except ssrf.BlockedDestination as exc:
        errors["endpoint"] = [str(exc)]
    if not p256dh or len(p256dh) > 200:
        errors["p256dh"] = ["The subscription's p256dh key is missing."]
    if not auth or len(auth) > 100:
        errors["auth"] = ["The subscription's auth secret is missing."]
    if errors:
        raise ValidationError(errors)
    fields = {"p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300], "last_error": ""}
    subscription, created = PushSubscription.objects.get_or_create(endpoint=endpoint, defaults={"user": user, **fields})
    if not created:
        if subscription.user_id != user.pk:
            raise ValidationError(
                {"endpoint": ["This browser's notifications belong to another member: turn them off and on again."]}
            )
        for name, value in fields.items():
            setattr(subscription, name, value)
        subscription.save(update_fields=list(fields))
    return subscription


def push_subscription_delete(*, user: User, endpoint: str) -> int:
    return PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()[0]


class _PushSession:
    """What pywebpush needs of a requests.Session (`post`), sent through ssrf.Session: the
    endpoint's host resolved and every address checked when sending, the connection made to the
    checked address (no second DNS lookup), redirects not followed."""

    def __init__(self):
        self._session = ssrf.Session(destination_policy())

    def post(self, url, data=None, headers=None, timeout=None, **_):
        response = self._session.post(url, data or b"", dict(headers or {}), timeout=timeout)
        return SimpleNamespace(
            status_code=response.status,
            reason="",
            text=response.body.decode(errors="replace"),
            headers=response.headers,
        )

    def close(self):
        self._session.close()


def push_send(*, notification_id: int) -> int:
    """Sends the notification to each of the member's browsers; forgets subscriptions that are gone."""
    from pywebpush import WebPushException, webpush

    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or not settings.HUB_VAPID_PRIVATE_KEY:
        return 0
    data = json.dumps(
        {
            "title": notification.title,
            "body": notification.body,
            "url": tenant_url(connection.tenant, notification.url or "/notifications/"),
            "tag": f"hub-{notification.pk}",
        }
    )
    sent = 0
    for subscription in PushSubscription.objects.filter(user_id=notification.user_id):
        session = _PushSession()
        try:
            webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=data,
                vapid_private_key=settings.HUB_VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.HUB_VAPID_SUBJECT},
                ttl=24 * 3600,
                timeout=settings.HUB_WEBHOOK_TIMEOUT_SECONDS,
                requests_session=session,
            )
            sent += 1
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in (404, 410):
                subscription.delete()
            else:
                PushSubscription.objects.filter(pk=subscription.pk).update(last_error=str(exc)[:300])
        except (ssrf.BlockedDestination, OSError, ValueError) as exc:
            PushSubscription.objects.filter(pk=subscription.pk).update(last_error=str(exc)[:300])
        finally:
            session.close()
    return sent
