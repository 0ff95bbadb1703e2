"""billing's GraphQL types (apps.api.graphql): the organisation's plan with its price, features and
usage this month, its usage per day, the plans it may choose, and the plan change — over the
selectors and services of /api/v1/billing/ (api/views.py) and of the Plan and usage page, with the
same scope (`billing`) and permission (billing.manage: owners and admins). The rules (who may
change, what a downgrade below usage is refused with) are services.plan_change's."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import strawberry
from django.core.exceptions import ValidationError
from strawberry import Info, relay

from apps.core.graphql import BigInt, context, filtered_by_choice, needs

from . import selectors, services
from .models import MONTHLY, Quantity
from .models import UsageRecord as UsageRecordModel

READ = needs("billing", "billing.manage")
WRITE = needs("billing", "billing.manage", write=True)


@strawberry.type(description="A price of a plan: monthly, plus per seat.")
class Price:
    currency: str
    monthly: Decimal
    per_seat: Decimal
    created: datetime = strawberry.field(description="Since when this price is asked.")


@strawberry.type(description="What a plan allows of one quantity.")
class PlanLimit:
    quantity: str = strawberry.field(description="seats, api_calls, storage_bytes, analytics_events or workflow_runs.")
    label: str
    limit: BigInt | None = strawberry.field(description="null: unlimited.")
    monthly: bool = strawberry.field(description="Counted per calendar month (UTC); false: a level (seats, storage).")


@strawberry.type(description="A plan the platform offers.")
class Plan:
    key: str = strawberry.field(description="What planChange takes, e.g. team.")
    name: str
    description: str
    order: int = strawberry.field(description="Lower is a smaller plan.")
    features: list[str] = strawberry.field(description="The features it includes (platform flag keys).")

    @strawberry.field(description="Its limits, one per quantity.")
    def limits(self) -> list[PlanLimit]:
        return [
            PlanLimit(quantity=q.value, label=q.label, limit=self.limit(q.value), monthly=q in MONTHLY)
            for q in Quantity
        ]

    price: Price | None = strawberry.field(description="The price new subscribers take (null: none yet).")


@strawberry.type(description="One quantity used this month (seats and storage: now) against the plan's limit.")
class QuantityUsage:
    quantity: str
    label: str
    used: BigInt
    limit: BigInt | None = strawberry.field(description="null: unlimited.")
    monthly: bool
    percent: int = strawberry.field(description="Of the limit, 0 to 100.")
    near: bool = strawberry.field(description="At 80 % of the limit or more.")
    reached: bool


@strawberry.type(description="The organisation's plan, the price it pays and its usage this month.")
class BillingPlan:
    key: str = strawberry.field(description="The plan's key (as planChange takes it).")
    name: str
    features: list[str]
    price: Price | None = strawberry.field(description="The price it pays (kept after the plan's price changes).")
    started: datetime | None = strawberry.field(description="Since when it has this plan and price.")
    seats: int | None = strawberry.field(description="The seats the subscription counts.")
    usage: list[QuantityUsage]


@strawberry.type(description="Usage of one quantity on one day (UTC).")
class UsageRecord:
    id: strawberry.ID
    day: date
    quantity: str
    amount: BigInt = strawberry.field(
        description="Runs started, calls made or events captured that day; for seats and storage, the level at "
        "the day's last collection."
    )
    collected_at: datetime


def billing_plan(tenant) -> BillingPlan:
    """The plan as GET /api/v1/billing/plan/ gives it (its selectors and the subscription service)."""
    plan = selectors.plan_get(key=tenant.plan)
    subscription = services.subscription_ensure(tenant=tenant)
    return BillingPlan(
        key=tenant.plan, name=plan.name if plan else tenant.get_plan_display(), features=plan.features if plan else [],
        price=subscription.price if subscription else None, started=subscription.started if subscription else None,
        seats=subscription.seats if subscription else None,
        usage=[
            QuantityUsage(quantity=u.quantity, label=u.label, used=u.used, limit=u.limit, monthly=u.monthly,
                          percent=u.percent, near=u.near, reached=u.reached)
            for u in selectors.usage_summary(tenant=tenant)
        ],
    )  # fmt: skip


@strawberry.type
class BillingQuery:
    @strawberry.field(permission_classes=[READ])
    def billing_plan(self, info: Info) -> BillingPlan:
        """The organisation's plan, its price and its usage this month (as GET /api/v1/billing/plan/)."""
        return billing_plan(context(info).tenant)

    @relay.connection(relay.ListConnection[UsageRecord], permission_classes=[READ])
    def billing_usage(
        self, info: Info, quantity: str | None = None, since: date | None = None, until: date | None = None
    ) -> Iterable[UsageRecord]:
        """Usage per day and quantity, newest first (as GET /api/v1/billing/usage/)."""
        rows: Iterable[UsageRecordModel] = selectors.usage_daily(tenant=context(info).tenant)
        rows = filtered_by_choice(rows, "quantity", quantity, Quantity)
        if since is not None:
            rows = rows.filter(day__gte=since)
        if until is not None:
            rows = rows.filter(day__lte=until)
        return rows.order_by("-day", "quantity", "-id")

    @strawberry.field(permission_classes=[READ])
    def plans(self, info: Info) -> list[Plan]:
        """The plans the organisation may choose, smallest first (as the Plan and usage page lists them)."""
        return list(selectors.plan_list())


@strawberry.type
class BillingMutation:
    @strawberry.mutation(permission_classes=[WRITE])
    def plan_change(self, info: Info, plan: str) -> BillingPlan:
        """Move to another plan (`plans` lists them) at its current price, as the Plan and usage page
        does. A downgrade below current usage is refused (BAD_USER_INPUT), naming each quantity."""
        chosen = next((p for p in selectors.plan_list() if p.key == plan), None)
        if chosen is None:
            raise ValidationError({"plan": [f"There is no plan {plan!r} to choose; `plans` lists them."]})
        ctx = context(info)
        services.plan_change(tenant=ctx.tenant, actor=ctx.membership, plan=chosen)
        return billing_plan(ctx.tenant)


ROOT_FIELDS = ("billingPlan", "billingUsage", "plans", "planChange")
