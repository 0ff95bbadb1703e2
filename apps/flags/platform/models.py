from django.db import models


class PlatformFlag(models.Model):
    """One of the hub's own features, gated per tenant or plan. Same definition as a tenant's
    flag; its conditions read the properties `plan` and `slug`, its overrides name tenant slugs."""

    key = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    overrides = models.JSONField(default=dict, blank=True)  # tenant slug -> true | false | variant
    version = models.PositiveIntegerField(default=1)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.key


class PlatformFlagVersion(models.Model):
    """The whole definition of a platform flag after each change, what changed, when."""

    flag = models.ForeignKey(PlatformFlag, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    note = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["flag", "version"], name="platform_flags_version_unique")]

    def __str__(self):
        return f"{self.flag_id} v{self.version}"
