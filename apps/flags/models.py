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


class Experiment(models.Model):
    """An A/B test on a multivariate flag (a "control" variant and one or more others), measured
    by analytics events: a primary metric and secondary ones, each
    {"kind": "funnel" | "count" | "mean", "event": goal event, "property": for "mean"}.
    The target sample size per variant comes from the power inputs (apps/flags/stats.py)."""

    DRAFT, RUNNING, STOPPED = "draft", "running", "stopped"
    STATUSES = [(DRAFT, "Draft"), (RUNNING, "Running"), (STOPPED, "Stopped")]

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    flag = models.ForeignKey(Flag, on_delete=models.PROTECT, related_name="experiments")
    primary_metric = models.JSONField(default=dict)
    secondary_metrics = models.JSONField(default=list)
    baseline_rate = models.FloatField(default=0.1)  # of the primary metric's conversion, 0–1
    mde = models.FloatField(default=0.1)  # minimum detectable effect, relative (0.1 = +10 %)
    alpha = models.FloatField(default=0.05)
    power = models.FloatField(default=0.8)
    target_per_variant = models.PositiveIntegerField(default=0)
    weights = models.JSONField(default=list, blank=True)  # [[variant, weight], …] of the flag when it started
    status = models.CharField(max_length=10, choices=STATUSES, default=DRAFT)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    shipped_variant = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.name


class DeclaredProperty(models.Model):
    """A property name a tenant says its code sends when it evaluates flags: rules may name it
    before any analytics person has it. Rules may always name a property some person has."""

    PERSON, GROUP = "person", "group"
    KINDS = [(PERSON, "Person"), (GROUP, "Organisation")]

    kind = models.CharField(max_length=10, choices=KINDS, default=PERSON)
    key = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "key"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="flags_declared_property_unique")]

    def __str__(self):
        return f"{self.kind}:{self.key}"
