"""`manage.py check` for the registry: what one app's entries name must be registered by some app."""

from django.core import checks

from .registry import Registry, registry


def check_registry(app_configs=None, *, hub_registry: Registry = registry, **kwargs) -> list[checks.CheckMessage]:
    errors = []

    def error(store, key, text, code):
        app = hub_registry.app_of(store, key) or "?"
        shown = getattr(key[1], "__qualname__", key[1]) if isinstance(key, tuple) else key
        errors.append(checks.Error(f"{store} {shown!r} (app {app}) {text}", id=code))

    permissions = hub_registry["permissions"]
    for store in ("nav_items", "widgets", "checklist_items", "search_providers"):
        for key, item in hub_registry[store].items():
            if item.permission and item.permission not in permissions:
                error(store, key, f"needs the permission {item.permission!r}, which no app registers", "hub.E001")
    event_types = hub_registry["event_types"]
    for store in ("event_handlers", "notification_rules", "workflow_nodes"):
        for key, item in hub_registry[store].items():
            if item.event_type and item.event_type != "*" and item.event_type not in event_types:
                error(store, key, f"names the event type {item.event_type!r}, which no app declares", "hub.E002")
    return errors
