from django import template

from ..selectors import greeting_list

register = template.Library()


@register.simple_tag
def latest_greetings(count: int = 5):
    return list(greeting_list()[:count])
