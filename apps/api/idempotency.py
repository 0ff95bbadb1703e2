"""Idempotency-Key on POST: the first response is replayed for 24 hours to the same caller
sending the same key; the same key with a different request is a 409.

A record is claimed (unique principal + key) before the view runs, so two concurrent requests
with one key cannot both act: the second gets 409 while the first is in flight. A 5xx or 429
answer is not kept, so the client may retry.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from .exceptions import Conflict
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADERS = ("Location",)


class Replay(Exception):
    def __init__(self, response):
        self.response = response


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.get_full_path().encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def begin(request, principal: str) -> IdempotencyRecord | None:
    """Claims the key for this request (returns the record to complete), replays the first
    response (raises Replay), or refuses (raises Conflict). None when no key was sent."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise ValidationError({HEADER: ["Use 1 to 255 characters."]})
    body_fp = fingerprint(request)
    cutoff = timezone.now() - timedelta(hours=settings.HUB_API_IDEMPOTENCY_HOURS)
    IdempotencyRecord.objects.filter(principal=principal, key=key, created__lt=cutoff).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(principal=principal, key=key, fingerprint=body_fp)
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
    if record is None:  # purged in between: act as new
        return begin(request, principal)
    if record.fingerprint != body_fp:
        raise Conflict(
            f"This {HEADER} was already used with a different request. Use a new key for a new request.",
            code="idempotency_key_reused",
        )
    if record.status_code is None:
        raise Conflict(f"A request with this {HEADER} is still being processed.", code="idempotency_in_flight")
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    raise Replay(response)


def complete(record: IdempotencyRecord, response) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    record.status_code = response.status_code
    record.content_type = response.get("Content-Type", "")
    record.body = response.content
    record.headers = {name: response[name] for name in REPLAY_HEADERS if name in response}
    record.save(update_fields=["status_code", "content_type", "body", "headers"])
