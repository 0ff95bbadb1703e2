from apps.core.plugins import PluginConfig

CHAT_SERVICES = {"slack": "Slack", "teams": "Microsoft Teams", "discord": "Discord"}


class ChatNotifyConfig(PluginConfig):
    """Posts the events an organisation chooses to a Slack, Microsoft Teams or Discord incoming
    webhook, in the words of the activity feed, through the SSRF-safe session.

    TENANT (a plugin's default), though it keeps no tables: its settings (which events, the
    webhook's address, stored encrypted) are the tenant's plugin settings in the marketplace.
    """

    name = "plugins.chatnotify"
    label = "chatnotify"
    verbose_name = "Chat notifier"
    version = "1.0.0"
    author = "ReactDjango-Hub"
    description = "Posts the events you choose to a Slack, Microsoft Teams or Discord channel."
    min_hub_version = "0.7"
    max_hub_version = "0"
    asks_for = ("events.read", "network.outbound")
    config_schema = {
        "type": "object",
        "properties": {
            "service": {
                "type": "string",
                "title": "Chat service",
                "enum": list(CHAT_SERVICES),
                "description": "Where the incoming webhook lives.",
            },
            "webhook_url": {
                "type": "string",
                "title": "Incoming webhook address",
                "format": "uri",
                "pattern": "^https?://",
                "writeOnly": True,
                "description": "The address the chat service gave you for its incoming webhook (kept encrypted).",
            },
            "events": {
                "type": "array",
                "title": "Events to post",
                "items": {"type": "string", "x-choices": "event_types"},
                "minItems": 1,
                "uniqueItems": True,
                "description": "Each of these posts one message, as the activity feed words it.",
            },
        },
        "required": ["service", "webhook_url", "events"],
        "additionalProperties": False,
    }

    def ready(self):
        from apps.core.registry import EventHandler, register_event_handler

        from .services import post_chosen_events

        register_event_handler(EventHandler("*", post_chosen_events, batch=True))
