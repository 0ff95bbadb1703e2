from django.db.models import Q, QuerySet
from django.urls import reverse

from apps.core.registry import SearchResult
from apps.events.models import Event
from apps.identity.models import User

from .models import Notification, WebhookDelivery, WebhookEndpoint


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, in_app=True)


BELL_MENU_SIZE = 8  # the latest notifications the bell's dropdown shows


def notification_latest(*, user: User, limit: int = BELL_MENU_SIZE) -> list[Notification]:
    """The member's newest in-app notifications, newest first (the bell's dropdown)."""
    return list(notification_list(user=user).order_by("-id")[:limit])


UNREAD_SHOWN = 99  # beyond, the bell says "99+"


def unread_count(*, user_id: int) -> int:
    """The member's unread in-app notifications, counted up to UNREAD_SHOWN + 1: the count is read
    for every live push, and stays as cheap with 20,000 unread as with 20."""
    unread = Notification.objects.filter(user_id=user_id, in_app=True, read_at__isnull=True)
    return unread[: UNREAD_SHOWN + 1].count()


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def webhook_search(*, query: str, tenant, user: User, limit: int) -> list[SearchResult]:
    """The command palette's webhook endpoints (search provider): by address or description."""
    found = WebhookEndpoint.objects.filter(Q(url__icontains=query) | Q(description__icontains=query)).order_by("-id")
    return [
        SearchResult(e.description or e.url, reverse("notifications:webhook", args=[e.pk]), _webhook_subtitle(e))
        for e in found[:limit]
    ]


def _webhook_subtitle(endpoint: WebhookEndpoint) -> str:
    parts = [endpoint.url] if endpoint.description else []
    if not endpoint.is_active:
        parts.append("Disabled")
    return " · ".join(parts)


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.all()


def recent_events(*, limit: int = 10) -> list[Event]:
    return list(Event.objects.order_by("-occurred_at")[:limit])


def latest_notification_id(*, user: User) -> int:
    return notification_list(user=user).order_by("-id").values_list("id", flat=True).first() or 0
