import uuid

from django.conf import settings
from django.db import models


class Event(models.Model):
    """One domain event in the tenant's outbox. Written in the publisher's transaction,
    dispatched after commit; `dispatched_at` stays empty until every handler has run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The W3C traceparent of the span that published it (empty with tracing off): the dispatcher
    # and the handlers continue that trace (apps.core.tracing).
    traceparent = models.CharField(max_length=55, blank=True, default="")

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["type", "occurred_at"], name="event_type_time"),
            models.Index(
                fields=["occurred_at"], name="event_undispatched", condition=models.Q(dispatched_at__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{self.type} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class StreamEntry(models.Model):
    """One event waiting to be published to the external event stream (HUB_EVENT_STREAM_URL).

    Written beside the event, in the publisher's transaction, only while the stream is on; deleted
    once the stream has acknowledged the event (at-least-once: a publisher that dies between the
    stream's ack and the delete sends it again, and the stream drops the copy by its message id).
    The publisher takes entries in `id` order, one tenant at a time, so each tenant's events, and
    so the events of each of its aggregates, reach the stream in the order they were written."""

    id = models.BigAutoField(primary_key=True)
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="+")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self):
        return f"stream entry {self.pk} for event {self.event_id}"
