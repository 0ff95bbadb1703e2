"""The UI kit's template tags: `{% load hub %}`.

- `{% time value %}`: relative words ("5 minutes ago") in a <time> element whose title is the
  absolute time in the viewer's time zone (activated by apps.core.middleware.TimeZoneMiddleware).
- `{% badge label tone %}`: a coloured badge (tones: success, warning, danger, info, neutral).
- `{% empty_state title text=… action_url=… action_label=… %}`: what a list shows when it is empty.
- `{% copy_button "#element-id" %}`: a button copying that element's text (static/hub/hub.js).
"""

import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

register = template.Library()

BADGE_TONES = ("success", "warning", "danger", "info", "neutral")
JUST_NOW_SECONDS = 45
RELATIVE_DAYS = 30  # older than this: the date itself reads better than "4 months ago"
ABSOLUTE_FORMAT = "j M Y, H:i T"


def relative_words(value: datetime.datetime, now: datetime.datetime) -> str:
    seconds = (now - value).total_seconds()
    if abs(seconds) < JUST_NOW_SECONDS:
        return "just now"
    if abs(seconds) > RELATIVE_DAYS * 86400:
        return date_format(timezone.localtime(value), "j M Y")
    if seconds > 0:
        return f"{timesince(value, now, depth=1)} ago"
    return f"in {timeuntil(value, now, depth=1)}"


@register.simple_tag
def time(value, default=""):
    """<time datetime="ISO" title="29 Nov 2026, 23:40 CET">5 minutes ago</time>; a date alone is
    shown as its day; None shows `default`."""
    if value in (None, ""):
        return default
    if not isinstance(value, datetime.datetime):  # a date
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), date_format(value, "j M Y"))
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        date_format(local, ABSOLUTE_FORMAT),
        relative_words(value, timezone.now()),
    )


@register.simple_tag
def badge(label, tone="neutral"):
    """<span class="badge badge-success">Delivered</span>; an unknown tone is neutral."""
    if tone not in BADGE_TONES:
        tone = "neutral"
    return format_html('<span class="badge badge-{}">{}</span>', tone, label)


@register.simple_tag
def score(value, grade, words="", tone="neutral"):
    """A score out of 100, large, with its grade in a disc of the tone and the grade's words:
    <div class="score"><span class="score-value">82<small>/100</small></span> … </div>."""
    if tone not in BADGE_TONES:
        tone = "neutral"
    return format_html(
        '<div class="score" data-score="{}"><span class="score-value">{}<small>/100</small></span>'
        '<span class="badge badge-{} score-grade" title="Grade {}">{}</span><span class="score-words">{}</span></div>',
        value, value, tone, grade, grade, words,
    )  # fmt: skip


@register.inclusion_tag("core/_empty_state.html")
def empty_state(title, text="", action_url="", action_label=""):
    """What an empty list shows: a title, a sentence, and a button to the first step."""
    return {"title": title, "text": text, "action_url": action_url, "action_label": action_label}


@register.simple_tag
def copy_button(target, label="Copy"):
    """A button that copies the text (or value) of the element `target` (a CSS selector)."""
    return format_html(
        '<button type="button" class="button button-small button-ghost" data-copy="{}">{}</button>', target, label
    )
