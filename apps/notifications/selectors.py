from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.urls import reverse

from apps.core.caching import cached_selector
from apps.core.memo import memo_scope
from apps.core.registry import SearchResult, registry
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


@cached_selector(topics=("notification",))
def unread_count(*, user_id: int) -> int:
    """The member's unread in-app notifications, counted up to UNREAD_SHOWN + 1: the count is read
    for every live push, and stays as cheap with 20,000 unread as with 20."""
    unread = Notification.objects.filter(user_id=user_id, in_app=True, read_at__isnull=True)
    return unread[: UNREAD_SHOWN + 1].count()


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


@cached_selector(topics=("webhook",))
def endpoint_exists(*, tenant=None, user=None) -> bool:
    """Whether the organisation (the schema being served) has a webhook endpoint."""
    return WebhookEndpoint.objects.exists()


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


def delivery_log() -> QuerySet[WebhookDelivery]:
    """Every endpoint's deliveries, newest first (the API's delivery log, REST and GraphQL)."""
    return WebhookDelivery.objects.select_related("endpoint").order_by("-created", "-pk")


@dataclass(frozen=True)
class ActivityItem:
    """One line of the activity feed: what happened, in words, and where it happened."""

    text: str
    url: str
    occurred_at: datetime
    event_id: str


def _activity_items(events) -> list[ActivityItem]:
    with memo_scope():  # each person's name is read once per page
        return [
            ActivityItem(registry.event_sentence(e), registry.event_url(e), e.occurred_at, str(e.pk)) for e in events
        ]


@cached_selector(topics=("activity",))
def activity_recent(*, limit: int = 8) -> list[ActivityItem]:
    """The tenant's latest events in words (the events of the schema being served: its own)."""
    return _activity_items(Event.objects.select_related("actor").order_by("-occurred_at")[:limit])


def activity_page(*, number, per_page: int = 25) -> tuple[Page, list[ActivityItem]]:
    page = Paginator(Event.objects.select_related("actor").order_by("-occurred_at", "-pk"), per_page).get_page(number)
    return page, _activity_items(page.object_list)


def delivery_in_flight(*, endpoint: WebhookEndpoint) -> bool:
    """Whether a delivery to the endpoint is still pending (its log is then worth refreshing)."""
    return endpoint.deliveries.filter(status=WebhookDelivery.Status.PENDING).exists()


@cached_selector(topics=("notification",))
def latest_notification_id(*, user: User) -> int:
    return notification_list(user=user).order_by("-id").values_list("id", flat=True).first() or 0


def failed_delivery_count() -> int:
    """Webhook deliveries of the current tenant that gave up after their last attempt."""
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count()
