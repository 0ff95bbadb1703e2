from datetime import datetime

from django.db.models import QuerySet

from apps.core.registry import EventType, registry

from .models import Event


def event_type_list() -> list[EventType]:
    return sorted(registry["event_types"].values(), key=lambda t: t.name)


def event_type_get(*, name: str) -> EventType | None:
    return registry["event_types"].get(name)


def event_list(*, event_type: str | None = None, since: datetime | None = None) -> QuerySet[Event]:
    """The current tenant's events, newest first."""
    events = Event.objects.all()
    if event_type:
        events = events.filter(type=event_type)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    return events


def outbox_trouble(*, stuck_after_minutes: int = 10) -> dict:
    """In the current tenant's outbox: events not dispatched `stuck_after_minutes` after they occurred
    ("stuck"), and those whose dispatch task failed at least once and has not succeeded since."""
    from datetime import timedelta

    from django.utils import timezone

    waiting = Event.objects.filter(dispatched_at__isnull=True)
    return {
        "stuck": waiting.filter(occurred_at__lte=timezone.now() - timedelta(minutes=stuck_after_minutes)).count(),
        "failed_dispatches": waiting.exclude(last_error="").count(),
    }
