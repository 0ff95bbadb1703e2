import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models

from apps.core.crypto import EncryptedTextField


class Channel(models.TextChoices):
    IN_APP = "in_app", "In-app"
    EMAIL = "email", "Email"
    BOTH = "both", "In-app and email"
    NONE = "none", "None"


class Notification(models.Model):
    """Something a member should see, in the bell and the list (and by email/push per preference)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_type = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    in_app = models.BooleanField(default=True, help_text="Shown in the bell and the list.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]
        constraints = [
            # A dispatch retried after a crash must not notify twice.
            models.UniqueConstraint(fields=["event", "user"], name="one_notification_per_event_and_user")
        ]

    def __str__(self):
        return self.title


class NotificationPreference(models.Model):
    """How one member wants to hear about one event type. No row: the event type's default."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "event_type"], name="one_preference_per_event_type")]

    def __str__(self):
        return f"{self.user} · {self.event_type}: {self.channel}"


class PushSubscription(models.Model):
    """A browser's Web Push subscription (endpoint and keys from PushManager.subscribe())."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return f"{self.user} · {self.endpoint[:60]}"


class WebhookEndpoint(models.Model):
    """A tenant's subscriber: an URL, the event types it wants and its signing secret(s)."""

    url = models.URLField(max_length=1000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="Event type names; empty means every type.")
    secret = EncryptedTextField()
    # During a rotation the previous secret keeps signing (both signatures are sent) until then.
    previous_secret = EncryptedTextField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created", "id"]

    def __str__(self):
        return self.url

    @property
    def host(self) -> str:
        """The URL's host name: what deleting the endpoint asks to be typed."""
        return urlsplit(self.url).hostname or self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One message to one endpoint, with all its attempts. `message_id` is the webhook-id header:
    the same for every attempt, manual re-send and replay of the same event."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=100)
    body = models.TextField(help_text="The JSON body, byte for byte as signed and sent.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker sends it: no other worker takes it before then (see webhooks._claim).
    leased_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    is_test = models.BooleanField(default=False)
    is_replay = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=models.Q(status="pending")),
        ]

    def __str__(self):
        return f"{self.message_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what was sent, what came back, how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(auto_now_add=True)
    url = models.CharField(max_length=1000)
    request_headers = models.JSONField(default=dict)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True, help_text="The first KiB of the response body.")
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self):
        return f"{self.delivery_id} #{self.pk}: {self.response_status or self.error}"
