from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Avg, Count
from django.utils import timezone

from apps.marketplace.selectors import plugin_settings

from .models import Checkin, Kudos

DEFAULTS = {"question": "How is your week going?", "scale": 5, "show_names": False}


def pulse_settings() -> dict:
    return {**DEFAULTS, **plugin_settings("pulse").values}


@dataclass(frozen=True)
class Mood:
    average: float | None
    count: int
    scale: int
    question: str


def mood_this_week() -> Mood:
    found = Checkin.objects.filter(created__gte=timezone.now() - timedelta(days=7)).aggregate(
        avg=Avg("score"), n=Count("id")
    )
    config = pulse_settings()
    return Mood(found["avg"], found["n"], int(config["scale"]), config["question"])


def checkin_list():
    return Checkin.objects.select_related("user")


def kudos_list():
    return Kudos.objects.select_related("sender", "recipient")
