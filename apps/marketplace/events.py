"""The event types the marketplace publishes, and its API scope."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import ApiScope, EventType

API_SCOPE = ApiScope("plugins", "The organisation's plugins: enable, configure, disable, uninstall.", label="Plugins")

_PLUGIN = payload_schema(
    {
        "label": {"type": "string"},
        "name": {"type": "string"},
        "version": {"type": "string"},
        "reason": {"type": "string"},
        "mode": {"type": "string"},
    },
    ["label", "name", "version"],
)


def _page(event) -> str:
    return reverse("marketplace:index")


def _disabled(event) -> str:
    payload = event.payload or {}
    if payload.get("reason"):
        return f"The plugin “{payload['name']}” was disabled because it failed: {payload['reason']}"
    from apps.core.registry import actor_name

    return f"{actor_name(event) or 'Someone'} disabled the plugin “{payload.get('name', '')}”"


def _uninstalled(event) -> str:
    from apps.core.registry import actor_name

    payload = event.payload or {}
    kept = "its data archived" if payload.get("mode") == "archive" else "its data removed"
    return f"{actor_name(event) or 'Someone'} uninstalled the plugin “{payload.get('name', '')}” ({kept})"


EVENT_TYPES = [
    EventType(
        "plugin.enabled",
        "Plugin enabled",
        "A plugin was enabled for the organisation.",
        _PLUGIN,
        summary="{actor} enabled the plugin “{name}”",
        link=_page,
    ),
    EventType(
        "plugin.configured",
        "Plugin settings changed",
        "A plugin's settings were changed.",
        _PLUGIN,
        summary="{actor} changed the settings of the plugin “{name}”",
        link=_page,
    ),
    EventType(
        "plugin.disabled",
        "Plugin disabled",
        "A plugin was disabled for the organisation (by someone, or because it failed).",
        _PLUGIN,
        summary=_disabled,
        link=_page,
    ),
    EventType(
        "plugin.uninstalled",
        "Plugin uninstalled",
        "A plugin was uninstalled from the organisation; its data was archived or removed.",
        _PLUGIN,
        summary=_uninstalled,
        link=_page,
    ),
]
