from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """In-app notifications and preferences, e-mail, Web Push, the live dashboard (websocket
    /ws/), and webhooks (endpoints, Standard Webhooks signing, delivery log, retries, replay).

    TENANT app: notifications, preferences, push subscriptions, endpoints and deliveries live in
    the tenant's schema (they reference users in the public schema). It listens to every event
    type through apps.events.handlers.
    """

    name = "apps.notifications"
    label = "notifications"

    def ready(self):
        from apps.core.registry import EventType, NavItem, Widget, registry
        from apps.events.handlers import subscribe
        from apps.events.services import register_sweeper

        from .services import live_event, notify_for_events
        from .webhooks import deliver_events, deliveries_sweep

        if "webhook.endpoint_disabled" not in registry["event_types"]:
            registry.register_event_type(
                EventType(
                    "webhook.endpoint_disabled",
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
                )
            )
        subscribe("*", notify_for_events, batch=True)
        subscribe("*", deliver_events, batch=True)
        subscribe("*", live_event)
        register_sweeper(deliveries_sweep)
        try:
            from apps.api import scopes
        except ImportError:
            scopes = None
        if scopes is not None and "webhooks" not in scopes.apps():
            scopes.register("webhooks", "Webhook endpoints, their secrets, test events, replay and delivery log.")
        registry["nav_items"].extend(
            [
                NavItem("Notifications", "notifications:list", icon="bell", weight=70),
                NavItem("Webhooks", "notifications:webhooks", icon="webhook", permission="settings.change", weight=85),
            ]
        )
        registry["widgets"].append(Widget("Recent activity", "notifications/widgets/activity.html", weight=10))
