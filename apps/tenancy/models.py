from django.db import models
from django.dispatch import Signal
from django_tenants.models import DomainMixin, TenantMixin

# Sent (sender=Tenant, tenant=…) in a tenant's deletion, just before its schema is dropped, while
# the schema can still be read: for apps that keep something of the tenant outside its schema.
schema_dropping = Signal()
# Sent (sender=Tenant, tenant=…, slugs={its slug in the backup, its slug now}, users=[the people
# the backup names, as accounts now], made_at=when the backup was made) at the end of a restore,
# inside its transaction: for apps that must redo what happened after the backup was made
# (erasures). A receiver returns a note for the restore's report, or "". An exception undoes the
# whole restore.
tenant_restored = Signal()


def logo_path(tenant, filename: str) -> str:
    return f"tenants/{tenant.slug}/logo/{filename}"


class Tenant(TenantMixin):
    """An organisation. Its data lives in the PostgreSQL schema `schema_name`."""

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        TEAM = "team", "Team"
        BUSINESS = "business", "Business"
        ENTERPRISE = "enterprise", "Enterprise"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=40, unique=True)
    # The one record of which plan the tenant is on (read by rate limits, metrics labels, platform
    # flags, plan limits); changed only by apps.billing.services.plan_change, which also records
    # the price taken (apps.billing.models.Subscription).
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)
    # A picture in the default storage under tenants/<slug>/ (apps.core.images), shown on its pages and emails.
    logo = models.ImageField(upload_to=logo_path, blank=True)
    # A zoneinfo name: the default time zone of its members' pages.
    time_zone = models.CharField(max_length=64, default="UTC")
    # Data residency: where the tenant's files and exports are kept (a key of settings.HUB_REGIONS,
    # chosen at creation; "" = HUB_DEFAULT_REGION). See apps.tenancy.regions.
    region = models.CharField(max_length=32, blank=True, default="")

    # The provisioning service creates the schema explicitly, inside its own transaction.
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.name

    @property
    def is_public(self):
        return self.schema_name == "public"

    def pre_drop(self):
        schema_dropping.send(sender=Tenant, tenant=self)

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    """A host name (no port) that routes to a tenant, e.g. `acme.localhost`."""

    def __str__(self):
        return self.domain
