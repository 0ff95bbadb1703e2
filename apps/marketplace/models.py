from django.conf import settings
from django.db import models

from apps.core.crypto import EncryptedTextField


class PluginInstall(models.Model):
    """One installed plugin in this tenant: whether it is enabled here, why not, its settings."""

    class State(models.TextChoices):
        AVAILABLE = "available", "Not enabled"
        ENABLED = "enabled", "Enabled"
        DISABLED = "disabled", "Disabled"
        BROKEN = "broken", "Disabled: it failed"
        UNINSTALLED = "uninstalled", "Uninstalled"

    label = models.CharField(max_length=100, unique=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.AVAILABLE)
    reason = models.TextField(blank=True)  # why it is disabled (a failure's words), or ""
    config = models.JSONField(default=dict, blank=True)  # its settings, secrets left out
    secrets = EncryptedTextField(blank=True, default="")  # its secret settings, a JSON object, encrypted
    tables = models.BooleanField(default=False)  # its tenant migrations have run in this schema
    accepted = models.JSONField(default=list, blank=True)  # what it asked for when it was enabled
    changed = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return self.label


class PluginArchive(models.Model):
    """A plugin's rows, kept when it was uninstalled with "archive" (Django's JSON serialization)."""

    label = models.CharField(max_length=100)
    version = models.CharField(max_length=40)
    rows = models.PositiveIntegerField()
    data = models.JSONField(default=list)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.label} ({self.rows} rows)"
