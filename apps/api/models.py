from django.conf import settings
from django.db import models
from django.utils import timezone

KEY_PREFIX = "hub_"


class ApiKey(models.Model):
    """A tenant's API key. Only a SHA-256 hash of the secret is stored; the prefix (shown in the
    dashboard and in logs) finds the row. A key acts with the role of the member who created it,
    so it never outranks them and dies when they leave the organisation."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    # A tenant table pointing at the public users table; no database constraint, so deleting a
    # user from the public schema never needs the tenant schemas (the key then stops working).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    created_by_email = models.EmailField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.is_expired else "active"


class ApiKeyUsage(models.Model):
    """Calls made with a key on one day (UTC). Counted in Redis per request, added here by the
    flush task; readers add what Redis holds that is not flushed yet."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "day"], name="one_usage_row_per_key_and_day")]
        ordering = ["-day", "key"]

    def __str__(self):
        return f"{self.key_id} on {self.day}: {self.count}"


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an Idempotency-Key, replayed for 24 hours."""

    principal = models.CharField(max_length=64)  # "key:<id>" or "user:<id>"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    status_code = models.PositiveSmallIntegerField(null=True)  # null while the first request runs
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    headers = models.JSONField(default=dict)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="one_record_per_idempotency_key")]
        indexes = [models.Index(fields=["created"])]

    def __str__(self):
        return f"{self.principal} {self.key}"
