"""A tenant's feature flags and every version of each. The definition's shape is the engine's
(apps/flags/engine.py), PostHog's, so SDKs evaluate it unchanged."""

from django.conf import settings
from django.db import models


class Flag(models.Model):
    key = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)  # the kill switch
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # {"groups": [...], "multivariate": {"variants": [...]} | null, "payloads": {...},
    #  "aggregation_group_type_index": null | 0}
    filters = models.JSONField(default=dict)
    overrides = models.JSONField(default=dict)  # distinct id -> true | false | variant
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.key


class FlagVersion(models.Model):
    """The whole definition as it was after a change: who made it, when."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    note = models.CharField(max_length=200, blank=True)  # "created", "edited", "switched off", "rolled back to 3"
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["flag", "version"], name="flags_version_unique")]

    def __str__(self):
        return f"{self.flag_id} v{self.version}"
