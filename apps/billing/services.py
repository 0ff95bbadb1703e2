"""Writes: the subscription a tenant takes (and its plan changes), plan prices, usage collection."""

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.caching import topics_bump_on_commit
from apps.core.events import publish
from apps.core.registry import registry
from apps.identity.roles import has_permission
from apps.tenancy.models import Tenant

from . import quotas
from .models import Plan, PlanPrice, Quantity, Subscription, UsageRecord

logger = logging.getLogger(__name__)
CHANGE = "billing.manage"


# --- plans and prices (operators) ------------------------------------------------------------------


def plan_price_set(*, plan: Plan, monthly: Decimal, per_seat: Decimal, currency: str) -> PlanPrice:
    """Gives `plan` a new price for new subscribers, unless it is its price already. Tenants on an
    older price keep theirs (grandfathered) until they change plan."""
    current = plan.price
    currency = currency.upper()
    if current is not None and (current.monthly, current.per_seat, current.currency) == (monthly, per_seat, currency):
        return current
    price = PlanPrice.objects.create(plan=plan, monthly=monthly, per_seat=per_seat, currency=currency)
    quotas.forget()
    return price


# --- subscriptions ---------------------------------------------------------------------------------


def subscription_ensure(*, tenant: Tenant) -> Subscription | None:
    """The tenant's subscription, made on first need at the current price of its plan (tenants
    made before billing, or by provisioning). None when its plan has no price (not seeded)."""
    found = Subscription.objects.select_related("price__plan").filter(tenant=tenant).first()
    if found is not None:
        return found
    plan = Plan.objects.filter(key=tenant.plan).first()
    price = plan.price if plan is not None else None
    if price is None:
        return None
    seats = quotas.measure(tenant, Quantity.SEATS, quotas.today())
    subscription, _ = Subscription.objects.get_or_create(
        tenant=tenant, defaults={"price": price, "seats": max(1, seats), "started": tenant.created}
    )
    return subscription


def plan_change_blockers(*, tenant: Tenant, plan: Plan) -> list[str]:
    """Why the tenant cannot move to `plan` now: for each quantity it uses more of than the plan
    allows, a sentence naming it. Empty: it may."""
    reasons = []
    for quantity in Quantity.values:
        limit = plan.limit(quantity)
        if limit is None:
            continue
        used = quotas.month_used(tenant, quantity)
        if used > limit:
            refused = quotas.refusal(quantity=quantity, used=used, limit=limit, adding=0, plan=plan.name)
            reasons.append(_downgrade_words(quantity, used, limit, plan.name) or refused.message)
    return reasons


def _downgrade_words(quantity: str, used: int, limit: int, plan: str) -> str:
    if quantity == Quantity.SEATS:
        return f"You have {quotas.members(used)}; the {plan} plan allows {limit}."
    return ""


def plan_change(*, tenant: Tenant, actor, plan: Plan) -> Subscription:
    """Moves the tenant to `plan` at its current price (an upgrade or a downgrade). Refused when
    the actor may not, when the plan is not offered, or when the tenant uses more of a quantity
    than the plan allows (the reason names each)."""
    membership = getattr(actor, "membership", actor)
    role = getattr(membership, "role", "")
    if not has_permission(role, CHANGE):
        raise PermissionDenied("Your role does not allow changing the plan.")
    if not plan.offered:
        raise ValidationError({"plan": [f"The {plan.name} plan is not offered."]})
    if plan.key == tenant.plan:
        raise ValidationError({"plan": [f"You are on the {plan.name} plan already."]})
    price = plan.price
    if price is None:
        raise ValidationError({"plan": [f"The {plan.name} plan has no price yet."]})
    blockers = plan_change_blockers(tenant=tenant, plan=plan)
    if blockers:
        raise ValidationError({"plan": blockers})
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        before = locked.plan
        before_name = quotas.plan_limits(before).name
        locked.plan = plan.key
        locked.save(update_fields=["plan"])
        tenant.plan = plan.key
        seats = quotas.measure(tenant, Quantity.SEATS, quotas.today())
        subscription, _ = Subscription.objects.update_or_create(
            tenant=locked, defaults={"price": price, "started": timezone.now(), "seats": max(1, seats)}
        )
        publish(
            "billing.plan_changed",
            {
                "from_plan": before, "from_plan_name": before_name, "to_plan": plan.key, "to_plan_name": plan.name,
                "monthly": str(price.monthly), "per_seat": str(price.per_seat), "currency": price.currency,
            },
            tenant=locked, actor=getattr(membership, "user", None),
        )  # fmt: skip
        topics_bump_on_commit("billing", schema_name=tenant.schema_name)
        transaction.on_commit(quotas.forget)
    return subscription


# --- metering --------------------------------------------------------------------------------------


def usage_collect(*, tenant: Tenant, day: date) -> dict[str, int]:
    """Writes the tenant's usage of every quantity on `day`, read again from each source and
    stored with the day as key (an upsert): collecting twice, or a retried task, gives the same
    rows. Returns quantity -> amount. Seats and storage, levels, are measured only for today
    (a past day keeps its last collection; a backfill of a day never collected records today's level)."""
    amounts = {}
    now = timezone.now()
    past = day < quotas.today()
    for quantity in Quantity.values:
        if past and quantity not in quotas.MONTHLY:
            if UsageRecord.objects.filter(tenant=tenant, day=day, quantity=quantity).exists():
                continue
        amount = quotas.measure(tenant, quantity, day)
        UsageRecord.objects.update_or_create(
            tenant=tenant, day=day, quantity=quantity, defaults={"amount": amount, "collected_at": now}
        )
        amounts[quantity] = amount
    topics_bump_on_commit("billing", schema_name=tenant.schema_name)
    if not past:
        _limits_reached_announce(tenant, day)
    return amounts


def usage_collect_range(*, tenants, since: date, until: date, progress=None) -> int:
    """Collects every day from `since` to `until` inclusive for each tenant; `progress(n)` after
    each tenant-day. Returns how many tenant-days were collected."""
    done = 0
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    for tenant in tenants:
        for day in days:
            with transaction.atomic():
                usage_collect(tenant=tenant, day=day)
            done += 1
            if progress is not None:
                progress(1)
    return done


def _limits_reached_announce(tenant: Tenant, day: date) -> None:
    """Publishes billing.limit_reached once a month per quantity the tenant has reached."""
    plan = quotas.plan_limits(tenant.plan)
    for quantity in Quantity.values:
        limit = plan.limits[quantity]
        if limit is None:
            continue
        used = quotas.month_used(tenant, quantity, on=day)
        if used < limit:
            continue
        if not cache.add(f"billing:reached:{tenant.schema_name}:{quantity}:{day:%Y-%m}", 1, timeout=40 * 86400):
            continue
        publish(  # fmt: skip
            "billing.limit_reached",
            {
                "quantity": quantity,
                "label": registry["quotas"][quantity].label,
                "used": used,
                "limit": limit,
                "plan": plan.name,
            },
            tenant=tenant,
        )
