"""The event types Billing publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType


def _billing_page(event) -> str:
    return reverse("billing:index")


EVENT_TYPES = [
    EventType(
        "billing.plan_changed",
        "Plan changed",
        "The organisation moved to another plan (an upgrade or a downgrade).",
        payload_schema(
            {
                "from_plan": {"type": "string"},
                "from_plan_name": {"type": "string"},
                "to_plan": {"type": "string"},
                "to_plan_name": {"type": "string"},
                "monthly": {"type": "string"},
                "per_seat": {"type": "string"},
                "currency": {"type": "string"},
            },
            ["from_plan", "from_plan_name", "to_plan", "to_plan_name", "monthly", "per_seat", "currency"],
        ),
        summary="{actor} moved the organisation from the {from_plan_name} plan to the {to_plan_name} plan",
        link=_billing_page,
    ),
    EventType(
        "billing.limit_reached",
        "Plan limit reached",
        "The organisation used all of a quantity its plan allows (members, storage, or this month's API "
        "calls, analytics events or workflow runs): more is refused until it upgrades.",
        payload_schema(
            {
                "quantity": {"type": "string"},
                "label": {"type": "string"},
                "used": {"type": "integer"},
                "limit": {"type": "integer"},
                "plan": {"type": "string"},
            },
            ["quantity", "label", "used", "limit", "plan"],
        ),
        summary="The organisation reached the {plan} plan's limit of {label}",
        link=_billing_page,
    ),
]
