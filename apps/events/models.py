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
