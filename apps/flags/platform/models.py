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
