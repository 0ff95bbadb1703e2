from django.db.models import QuerySet

from apps.events.models import Event
from apps.identity.models import User

from .models import Notification, WebhookDelivery, WebhookEndpoint


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, in_app=True)


UNREAD_SHOWN = 99  # beyond, the bell says "99+"


def unread_count(*, user_id: int) -> int:
    """The member's unread in-app notifications, counted up to UNREAD_SHOWN + 1: the count is read
    for every live push, and stays as cheap with 20,000 unread as with 20."""
    unread = Notification.objects.filter(user_id=user_id, in_app=True, read_at__isnull=True)
    return unread[: UNREAD_SHOWN + 1].count()


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.all()


def delivery_in_flight(*, endpoint: WebhookEndpoint) -> bool:
    """Whether a delivery to the endpoint is still pending (its log is then worth refreshing)."""
    return endpoint.deliveries.filter(status=WebhookDelivery.Status.PENDING).exists()


def recent_events(*, limit: int = 10) -> list[Event]:
    return list(Event.objects.order_by("-occurred_at")[:limit])


def latest_notification_id(*, user: User) -> int:
    return notification_list(user=user).order_by("-id").values_list("id", flat=True).first() or 0
