"""Reads: the plans offered, a tenant's subscription, its usage this month against its plan's
limits (cached per tenant: the near-limit banner reads it on every dashboard page), its usage
per day."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat

from apps.core.caching import cached_selector

from . import quotas
from .models import MONTHLY, Plan, Quantity, Subscription, UsageRecord

NEAR = 80  # percent of a limit from which the dashboards show a banner


@dataclass(frozen=True)
class Usage:
    quantity: str
    label: str
    used: int
    limit: int | None  # None: unlimited
    monthly: bool

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0 if self.limit is None else 100
        return min(100, round(100 * self.used / self.limit))

    @property
    def near(self) -> bool:
        return self.limit is not None and self.percent >= NEAR

    @property
    def reached(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    def show(self, amount: int | None) -> str:
        if amount is None:
            return "Unlimited"
        return filesizeformat(amount) if self.quantity == Quantity.STORAGE_BYTES else f"{amount:,}"

    @property
    def used_text(self) -> str:
        return self.show(self.used)

    @property
    def limit_text(self) -> str:
        return self.show(self.limit)


def plan_list(*, offered_only: bool = True) -> QuerySet[Plan]:
    plans = Plan.objects.prefetch_related("prices")
    return plans.filter(offered=True) if offered_only else plans


def plan_get(*, key: str) -> Plan | None:
    return Plan.objects.filter(key=key).first()


def subscription_get(*, tenant) -> Subscription | None:
    return Subscription.objects.select_related("price__plan").filter(tenant=tenant).first()


@cached_selector(topics=("billing", "member"), timeout=300)
def usage_summary(*, tenant) -> list[Usage]:
    """Each quantity's use this month (seats and storage: now) against the tenant's plan."""
    plan = quotas.plan_limits(tenant.plan)
    return [
        Usage(q.value, q.label, quotas.month_used(tenant, q.value), plan.limits[q.value], q in MONTHLY)
        for q in Quantity
    ]


def limits_near(*, tenant) -> list[Usage]:
    """The quantities at NEAR % of their limit or more (from the cached summary: cheap)."""
    return [usage for usage in usage_summary(tenant=tenant) if usage.near]


def usage_daily(*, tenant) -> QuerySet[UsageRecord]:
    """The tenant's usage per day and quantity, newest first (its own rows only)."""
    return UsageRecord.objects.filter(tenant=tenant)
