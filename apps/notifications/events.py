"""The event types notifications publish, and who is notified of them."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, NotificationRule
from apps.identity.selectors import event_admin_ids

_ENDPOINT = {"endpoint_id": {"type": "integer"}, "url": {"type": "string"}}


def _endpoint_link(event) -> str:
    return reverse("notifications:webhook", args=[event.payload["endpoint_id"]])


EVENT_TYPES = [
    EventType(
        "webhook.endpoint_disabled",
        "Webhook endpoint disabled",
        "A webhook endpoint was disabled after its deliveries failed for days.",
        payload_schema({**_ENDPOINT, "reason": {"type": "string"}}, ["endpoint_id", "url", "reason"]),
        summary="The webhook endpoint {url} was turned off: its deliveries kept failing",
        link=_endpoint_link,
    ),
]

NOTIFICATION_RULES = [
    NotificationRule(
        "webhook.endpoint_disabled",
        event_admin_ids,
        body=lambda e: e.payload.get("reason", ""),
        default_channel="both",
    ),
]
