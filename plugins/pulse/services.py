from django.core.exceptions import ValidationError

from .models import Checkin, Kudos
from .selectors import pulse_settings


def checkin_create(*, user, score: int, note: str = "") -> Checkin:
    scale = int(pulse_settings()["scale"])
    if not 1 <= score <= scale:
        raise ValidationError({"score": [f"Choose a score from 1 to {scale}."]})
    return Checkin.objects.create(user=user, score=score, note=note.strip()[:200])


def kudos_create(*, sender, recipient, message: str) -> Kudos:
    if sender.pk == recipient.pk:
        raise ValidationError({"recipient": ["Thank someone else."]})
    if not message.strip():
        raise ValidationError({"message": ["Say what for."]})
    return Kudos.objects.create(sender=sender, recipient=recipient, message=message.strip()[:200])
