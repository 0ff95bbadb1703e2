from django import template

from ..selectors import recent_events

register = template.Library()


@register.simple_tag
def recent_activity(limit=8):
    return recent_events(limit=limit)
