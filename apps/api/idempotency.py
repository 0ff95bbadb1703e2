"""Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header): the first response is
replayed for 24 hours to the same caller sending the same key with the same request.

The key is 1 to 255 printable ASCII characters (KEY_PATTERN, declared in the OpenAPI document; a
UUID is a good choice). A request is identified by its method, its path with the query and its
JSON body in canonical form (keys sorted, no insignificant whitespace), so a client that
re-serialises the same JSON differently is still recognised. As the draft says:
- the same key with a different request (another body, path or method) is a 422;
- a repeat while the first request is still being processed is a 409 (retry it later).

A record is claimed (unique principal + key) before the view runs, so two concurrent requests
with one key cannot both act. A 5xx or 429 answer is not kept, so the client may retry.

IdempotencyKeys is the hook apps.core.api's base view calls (the setting HUB_API_IDEMPOTENCY_CLASS).
"""

import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status

from apps.core.api.authentication import principal_of
from apps.core.api.exceptions import Conflict, Replay

from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
# 1 to 255 printable ASCII characters, no space at either end (HTTP would strip it).
KEY_PATTERN = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
KEY_MAX_LENGTH = 255
REPLAY_HEADERS = ("Location",)
_KEY = re.compile(KEY_PATTERN)


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = f"This {HEADER} was already used with a different request. Use a new key for a new request."
    default_code = "idempotency_key_reused"


def canonical_body(body: bytes) -> bytes:
    """The JSON body in one canonical form; a body that is not JSON as it is."""
    if not body:
        return b""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return body
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.get_full_path().encode() + b"\n")
    digest.update(canonical_body(request.body))
    return digest.hexdigest()


def begin(request, principal: str) -> IdempotencyRecord | None:
    """Claims the key for this request (returns the record to complete), replays the first
    response (raises Replay), or refuses (raises KeyReused or Conflict). None when no key was sent."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    if not _KEY.match(key):
        raise exceptions.ValidationError(
            {HEADER: [f"Use 1 to {KEY_MAX_LENGTH} printable ASCII characters, e.g. a UUID."]}
        )
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
        raise KeyReused()
    if record.status_code is None:
        raise Conflict(
            f"A request with this {HEADER} is still being processed. Retry it once that one has finished.",
            code="idempotency_in_flight",
        )
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


class IdempotencyKeys:
    """The base view's idempotency hook: begin() before the view runs, complete() with its answer."""

    def begin(self, request) -> IdempotencyRecord | None:
        return begin(request, principal_of(request))

    def complete(self, record: IdempotencyRecord, response) -> None:
        complete(record, response)

    def schema_parameter(self) -> OpenApiParameter:
        """The header as the OpenAPI document declares it on every POST (apps.core.api.schema)."""
        return OpenApiParameter(
            HEADER,
            {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": KEY_PATTERN},
            OpenApiParameter.HEADER,
            description="1 to 255 printable ASCII characters, e.g. a UUID. The first response to this "
            "key is replayed for 24 hours; the same key with a different request is a 422.",
        )
