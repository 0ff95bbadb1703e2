"""Plans, their prices over time, each tenant's subscription, and its usage per day.

Public schema (see apps.py): rows that name a tenant point at tenancy.Tenant."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from apps.tenancy.models import Tenant


class Quantity(models.TextChoices):
    """What a plan limits. Seats and storage are levels (what the tenant has now); the others
    are counted per month (calendar month, UTC)."""

    SEATS = "seats", "Members"
    API_CALLS = "api_calls", "API calls"
    STORAGE_BYTES = "storage_bytes", "Storage"
    ANALYTICS_EVENTS = "analytics_events", "Analytics events"
    WORKFLOW_RUNS = "workflow_runs", "Workflow runs"


MONTHLY = frozenset({Quantity.API_CALLS, Quantity.ANALYTICS_EVENTS, Quantity.WORKFLOW_RUNS})


def _limit(help_text: str, verbose_name: str | None = None):
    return models.PositiveBigIntegerField(
        verbose_name, null=True, blank=True, help_text=f"{help_text} Empty: unlimited."
    )


class Plan(models.Model):
    """A plan operators offer (edited in the Django admin). `key` is what Tenant.plan holds."""

    key = models.CharField(max_length=20, unique=True, choices=Tenant.Plan.choices)
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0, help_text="Lower comes first, and is a smaller plan.")
    offered = models.BooleanField(default=True, help_text="Tenants may choose it on their Plan and usage page.")
    seats = _limit("Members.")
    api_calls = _limit("API calls a month.", "API calls")
    storage_bytes = _limit("Bytes of files stored.")
    analytics_events = _limit("Analytics events captured a month.")
    workflow_runs = _limit("Workflow runs started a month.")
    features = models.JSONField(
        default=list, blank=True, help_text='The features it includes (platform flag keys), e.g. ["sso", "siem"].'
    )

    class Meta:
        ordering = ["order", "key"]

    def __str__(self):
        return self.name

    def limit(self, quantity: str) -> int | None:
        return getattr(self, quantity)

    @property
    def price(self) -> "PlanPrice | None":
        """The price new subscribers take (the newest)."""
        return self.prices.order_by("-created", "-pk").first()


class PlanPrice(models.Model):
    """One price of a plan, from `created` on. A price change adds a row; a subscription keeps the
    row it took (grandfathering) until its plan changes."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="prices")
    currency = models.CharField(max_length=3, default="EUR")
    monthly = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    per_seat = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(Decimal(0))]
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["plan", "-created", "-pk"]

    def __str__(self):
        per_seat = f" + {self.per_seat}/seat" if self.per_seat else ""
        return f"{self.plan.name}: {self.currency} {self.monthly}/month{per_seat} (from {self.created:%Y-%m-%d})"


class Subscription(models.Model):
    """What a tenant took: the price (of its plan; Tenant.plan holds the plan's key), since when,
    and the seats it pays for."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="subscription")
    price = models.ForeignKey(PlanPrice, on_delete=models.PROTECT, related_name="subscriptions")
    started = models.DateTimeField(default=timezone.now)
    seats = models.PositiveIntegerField(default=1)

    def __str__(self):
        return f"{self.tenant} on {self.price}"


class UsageRecord(models.Model):
    """How much of a quantity a tenant used on one day (UTC): runs started, calls made and events
    captured that day; for seats and storage, the level at the last collection. Written by
    collecting (apps.billing.services.usage_collect) with the day as key: a retry overwrites."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="usage_records")
    day = models.DateField()
    quantity = models.CharField(max_length=20, choices=Quantity.choices)
    amount = models.BigIntegerField(default=0)
    collected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "quantity"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "quantity"], name="billing_one_usage_per_day"),
        ]

    def __str__(self):
        return f"{self.tenant_id} {self.quantity} on {self.day}: {self.amount}"
