from django import template

from apps.core.registry import registry

from ..selectors import activity_recent

register = template.Library()


@register.filter
def event_label(name: str) -> str:
    """An event type's label: `{{ delivery.event_type|event_label }}` → "Member joined"."""
    return registry.event_label(name)


@register.simple_tag
def recent_activity(limit=8):
    return activity_recent(limit=limit)
