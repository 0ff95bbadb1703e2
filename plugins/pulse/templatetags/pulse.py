from django import template

from ..selectors import kudos_list, mood_this_week

register = template.Library()


@register.simple_tag
def team_mood():
    return mood_this_week()


@register.simple_tag
def latest_kudos(count: int = 3):
    return list(kudos_list()[:count])
