"""The event type notifications publish, and who is notified of it."""

from apps.core.registry import EventType, NotificationRule
from apps.identity.selectors import event_admin_ids

EVENT_TYPES = [
    EventType(
        "webhook.endpoint_disabled",
        "Webhook endpoint disabled",
        "A webhook endpoint was disabled after its deliveries failed for days.",
        {
            "type": "object",
            "properties": {
                "endpoint_id": {"type": "integer"},
                "url": {"type": "string"},
                "reason": {"type": "string"},
            },
            "required": ["endpoint_id", "url", "reason"],
            "additionalProperties": False,
        },
    ),
]

NOTIFICATION_RULES = [
    NotificationRule(
        "webhook.endpoint_disabled",
        event_admin_ids,
        lambda e: f"Webhook endpoint {e.payload.get('url', '')} was disabled",
        url="/webhooks/",
        body=lambda e: e.payload.get("reason", ""),
        default_channel="both",
    ),
]
