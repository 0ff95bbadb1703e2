"""The plan limits as quotas the registry holds (apps.core.limits.limit_check asks them), and
what a tenant has used of each.

Cheap where it must be: a plan's limits are kept in the process for PLAN_SECONDS (an operator's
edit applies within that); the hot paths (analytics capture, API calls) draw on an allowance
per tenant kept in the process, worked out again from the usage every ALLOWANCE_SECONDS, so a
call or an event costs a dictionary look-up, not a query. A tenant spread over P processes may
pass its monthly limit by at most what those processes let through in one allowance period
before they see it; an unlimited plan costs nothing at all. Seats, storage and workflow runs
grow seldom: they are counted when asked.
"""

import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django_tenants.utils import schema_context

from apps.analytics import selectors as analytics_selectors
from apps.api import selectors as api_selectors
from apps.content import selectors as content_selectors
from apps.core.limits import LimitReached
from apps.identity import selectors as identity_selectors
from apps.tenancy.models import Tenant
from apps.workflow import selectors as workflow_selectors

from .models import MONTHLY, Plan, Quantity, UsageRecord

PLAN_SECONDS = 60.0
ALLOWANCE_SECONDS = 30.0
CACHED = frozenset({Quantity.API_CALLS, Quantity.ANALYTICS_EVENTS})  # the hot paths
UPGRADE_URL = "/billing/"


@dataclass(frozen=True)
class PlanLimits:
    key: str
    name: str
    limits: dict  # quantity -> int | None (unlimited)


_lock = threading.Lock()
_plans: dict[str, tuple[float, PlanLimits]] = {}
_allowances: dict[tuple[str, str], "_Allowance"] = {}


@dataclass
class _Allowance:
    expires: float
    limit: int
    used: int


def forget() -> None:
    """Drops what this process keeps (after an operator's edit in tests; a plan change)."""
    with _lock:
        _plans.clear()
        _allowances.clear()


def plan_limits(key: str) -> PlanLimits:
    """The limits of the plan `key` (kept PLAN_SECONDS in the process). A key with no Plan row
    (not seeded) is unlimited."""
    now = time.monotonic()
    found = _plans.get(key)
    if found is not None and found[0] > now:
        return found[1]
    plan = Plan.objects.filter(key=key).first()
    if plan is None:
        limits = PlanLimits(key, key.capitalize(), {q: None for q in Quantity.values})
    else:
        limits = PlanLimits(key, plan.name, {q: plan.limit(q) for q in Quantity.values})
    with _lock:
        _plans[key] = (now + PLAN_SECONDS, limits)
    return limits


# --- usage -----------------------------------------------------------------------------------------


def today() -> date:
    return datetime.now(UTC).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def measure(tenant, quantity: str, day: date) -> int:
    """The amount of `quantity` on `day`, read from its source (the app that owns it): what a
    UsageRecord of that day holds. Seats and storage are levels: what the tenant has now."""
    if quantity == Quantity.SEATS:
        return identity_selectors.seats_used(tenant=tenant)
    with schema_context(tenant.schema_name):
        if quantity == Quantity.STORAGE_BYTES:
            return content_selectors.storage_used(tenant=tenant)["used_bytes"]
        if quantity == Quantity.API_CALLS:
            return api_selectors.api_calls_count(day=day)
        since, until = day_bounds(day)
        if quantity == Quantity.ANALYTICS_EVENTS:
            return analytics_selectors.events_received_count(since=since, until=until)
        if quantity == Quantity.WORKFLOW_RUNS:
            return workflow_selectors.runs_started_count(since=since, until=until)
    raise ValueError(f"unknown quantity {quantity}")


def month_used(tenant, quantity: str, *, on: date | None = None) -> int:
    """What the tenant used of a monthly quantity this month (UTC): the days collected before
    today, and today from its source; for seats and storage, the level now."""
    on = on or today()
    if quantity not in MONTHLY:
        return measure(tenant, quantity, on)
    before = UsageRecord.objects.filter(
        tenant=tenant, quantity=quantity, day__gte=on.replace(day=1), day__lt=on
    ).aggregate(total=Sum("amount"))["total"]
    return (before or 0) + measure(tenant, quantity, on)


# --- the checks ------------------------------------------------------------------------------------


def refusal(*, quantity: str, used: int, limit: int, adding: int, plan: str) -> LimitReached:
    """The words of a refusal (or of a downgrade refused), naming the quantity, the use and the limit."""
    if quantity == Quantity.SEATS:
        text = f"You have {members(used)}, counting pending invitations; the {plan} plan allows {limit}."
    elif quantity == Quantity.STORAGE_BYTES:
        text = f"You store {filesizeformat(used)}; the {plan} plan allows {filesizeformat(limit)}"
        text += f", and this adds {filesizeformat(adding)}." if adding > 1 else "."
    elif quantity == Quantity.API_CALLS:
        text = f"This organisation made {used:,} API calls this month; the {plan} plan allows {limit:,} a month."
    elif quantity == Quantity.ANALYTICS_EVENTS:
        text = f"{used:,} analytics events were captured this month; the {plan} plan allows {limit:,} a month."
    else:
        text = f"{used:,} workflow runs started this month; the {plan} plan allows {limit:,} a month."
    message = f"{text} Upgrade the plan on the Plan and usage page to go on."
    return LimitReached(
        quantity=quantity, limit=limit, used=used, adding=adding, plan=plan, message=message, upgrade_url=UPGRADE_URL
    )


def members(n: int) -> str:
    return f"{n} member" if n == 1 else f"{n} members"


def _seats_used(tenant) -> int:
    return identity_selectors.seats_used(tenant=tenant, pending=True)


def check(tenant, quantity: str, adding: int) -> None:
    plan = plan_limits(tenant.plan)
    limit = plan.limits[quantity]
    if limit is None:
        return
    if quantity in CACHED:
        return _check_allowance(tenant, quantity, adding, plan, limit)
    used = _seats_used(tenant) if quantity == Quantity.SEATS else month_used(tenant, quantity)
    if used + adding > limit:
        raise refusal(quantity=quantity, used=used, limit=limit, adding=adding, plan=plan.name)


def _allowance_used(tenant, quantity: str) -> int:
    """What a hot path's allowance starts from. Analytics events: the days collected this month,
    today's included (the hourly collection's count), never a count of the event table itself,
    which on a busy tenant is millions of rows and would hold up capture; so a tenant may pass
    its events limit by up to an hour's capture before it is refused. API calls: month_used
    (the days collected and today's calls from Redis)."""
    if quantity != Quantity.ANALYTICS_EVENTS:
        return month_used(tenant, quantity)
    first = today().replace(day=1)
    collected = UsageRecord.objects.filter(tenant=tenant, quantity=quantity, day__gte=first)
    return collected.aggregate(total=Sum("amount"))["total"] or 0


def _check_allowance(tenant, quantity: str, adding: int, plan: PlanLimits, limit: int) -> None:
    key = (tenant.schema_name, quantity)
    now = time.monotonic()
    allowance = _allowances.get(key)
    if allowance is None or allowance.expires <= now or allowance.limit != limit:
        allowance = _Allowance(now + ALLOWANCE_SECONDS, limit, _allowance_used(tenant, quantity))
        with _lock:
            _allowances[key] = allowance
    with _lock:
        if allowance.used + adding > limit:
            used = allowance.used
        else:
            allowance.used += adding
            return
    raise refusal(quantity=quantity, used=used, limit=limit, adding=adding, plan=plan.name)


def _tenant_row(tenant):
    """The Tenant itself where a caller has only the schema being served (a task's FakeTenant)."""
    if isinstance(tenant, Tenant):
        return tenant
    return Tenant.objects.get(schema_name=tenant.schema_name)


def quota_check(quantity: str):
    def check_quantity(*, tenant, adding: int = 1) -> None:
        check(_tenant_row(tenant), quantity, adding)

    check_quantity.__name__ = f"check_{quantity}"
    return check_quantity


def now_hour() -> int:
    return datetime.now(UTC).hour
