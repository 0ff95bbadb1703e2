from django.db.models import QuerySet

from apps.events.models import Event
from apps.identity.models import User

from .models import Notification, WebhookDelivery, WebhookEndpoint


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, in_app=True)


def unread_count(*, user: User) -> int:
    return notification_list(user=user).filter(read_at__isnull=True).count()


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.all()


def recent_events(*, limit: int = 10) -> list[Event]:
    return list(Event.objects.order_by("-occurred_at")[:limit])


def latest_notification_id(*, user: User) -> int:
    return notification_list(user=user).order_by("-id").values_list("id", flat=True).first() or 0
