"""Writes on webhooks: endpoints, deliveries and their attempts (Standard Webhooks)."""

import json
import logging
import random
import time
import uuid
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.core.events import publish
from apps.core.registry import registry
from apps.identity.models import User

from . import signing, ssrf
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

# Delay before attempt n+1 after attempt n failed: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h.
RETRY_SCHEDULE = [0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 24 * 3600]
JITTER = 0.1  # ± 10 %
NO_RETRY_4XX_EXCEPT = {408, 429}
ROTATION_OVERLAP = timedelta(hours=24)
REPLAY_LIMIT = 10_000
# Deliveries due later than this are left to the periodic sweep (a countdown past the broker's
# visibility timeout would be delivered twice by Redis).
MAX_COUNTDOWN_SECONDS = 15 * 60
USER_AGENT = "ReactDjango-Hub-Webhooks/1 (+https://www.standardwebhooks.com/)"


# --- endpoints ----------------------------------------------------------------------------------


def _clean(*, url: str, event_types: list[str], description: str) -> tuple[str, list[str], str]:
    errors = {}
    url = (url or "").strip()
    refusal = ssrf.url_refusal(url) if url else "Enter the URL to deliver to."
    if not refusal and len(url) > 1000:
        refusal = "Use at most 1000 characters."
    if not refusal:
        try:  # resolvable now? then it must resolve to public addresses (checked again at each send)
            parts = urlsplit(url)
            ssrf.resolve(parts.hostname, parts.port or 443)
        except ssrf.BlockedDestination as exc:
            refusal = f"{exc}."
        except ConnectionError:
            pass
    if refusal:
        errors["url"] = [refusal]
    event_types = sorted(set(event_types or []))
    unknown = [t for t in event_types if t not in registry["event_types"]]
    if unknown:
        errors["event_types"] = [f"Unknown event type: {', '.join(unknown)}."]
    if len(description or "") > 200:
        errors["description"] = ["Use at most 200 characters."]
    if errors:
        raise ValidationError(errors)
    return url, event_types, (description or "").strip()


def endpoint_create(
    *, url: str, event_types: list[str], description: str = "", created_by: User | None = None
) -> WebhookEndpoint:
    url, event_types, description = _clean(url=url, event_types=event_types, description=description)
    return WebhookEndpoint.objects.create(
        url=url,
        event_types=event_types,
        description=description,
        secret=signing.secret_generate(),
        created_by=created_by,
    )


def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, event_types: list[str], description: str = ""
) -> WebhookEndpoint:
    endpoint.url, endpoint.event_types, endpoint.description = _clean(
        url=url, event_types=event_types, description=description
    )
    endpoint.save(update_fields=["url", "event_types", "description"])
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, overlap: timedelta = ROTATION_OVERLAP) -> WebhookEndpoint:
    """A new secret signs from now on; the old one keeps signing too (both signatures are sent)
    for `overlap`, so receivers can switch without missing a message."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + overlap
    endpoint.secret = signing.secret_generate()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


def endpoint_set_active(*, endpoint: WebhookEndpoint, active: bool, reason: str = "") -> WebhookEndpoint:
    endpoint.is_active = active
    endpoint.disabled_at = None if active else timezone.now()
    endpoint.disabled_reason = "" if active else reason[:200]
    if active:
        endpoint.failing_since = None
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "failing_since"])
    return endpoint


def signing_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    now = now or timezone.now()
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets.append(endpoint.previous_secret)
    return secrets


# --- deliveries ---------------------------------------------------------------------------------


def message_id_for(event_id) -> str:
    return "msg_" + uuid.UUID(str(event_id)).hex


def event_body(event) -> str:
    return json.dumps(
        {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": event.payload},
        separators=(",", ":"),
        sort_keys=True,
    )


def _delivery_for(endpoint: WebhookEndpoint, event, **extra) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        message_id=message_id_for(event.pk),
        event_type=event.type,
        body=event_body(event),
        next_attempt_at=timezone.now(),
        enqueued_at=timezone.now(),
        **extra,
    )
    _enqueue_after_commit(delivery.pk)
    return delivery


def deliver_event(event) -> None:
    """Event handler: one delivery per active endpoint subscribed to the event's type."""
    for endpoint in WebhookEndpoint.objects.filter(is_active=True):
        if endpoint.wants(event.type):
            _delivery_for(endpoint, event)


def delivery_enqueue_on_commit(delivery: WebhookDelivery, countdown: float = 0) -> None:
    eta = timezone.now() + timedelta(seconds=countdown)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(enqueued_at=eta)
    _enqueue_after_commit(delivery.pk, countdown)


def _enqueue_after_commit(delivery_id, countdown: float = 0) -> None:
    """The delivery's task is sent after commit; `enqueued_at` (when it should run) lets the
    sweep find deliveries whose task was lost."""
    schema = connection.schema_name
    transaction.on_commit(lambda: _send_task(delivery_id, schema, countdown))


def _send_task(delivery_id, schema_name: str, countdown: float) -> None:
    from .tasks import deliver_webhook

    try:
        deliver_webhook.apply_async(
            args=[str(delivery_id)], countdown=countdown or None, headers={"_schema_name": schema_name}
        )
    except Exception:  # noqa: BLE001 - the sweep enqueues it again
        logger.warning("could not enqueue webhook delivery %s; the sweep will", delivery_id)


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    now = timezone.now()
    message_id = "msg_" + uuid.uuid4().hex
    body = json.dumps(
        {
            "type": "webhook.test",
            "timestamp": now.isoformat(),
            "data": {"message": "A test event from ReactDjango-Hub.", "endpoint_id": endpoint.pk},
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=message_id,
        event_type="webhook.test",
        body=body,
        next_attempt_at=now,
        is_test=True,
    )
    delivery_enqueue_on_commit(delivery)
    return delivery


def delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Sends the same message again (same webhook-id and body) as a new delivery with its own retries."""
    copy = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event=delivery.event,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        body=delivery.body,
        next_attempt_at=timezone.now(),
        is_test=delivery.is_test,
        is_replay=True,
    )
    delivery_enqueue_on_commit(copy)
    return copy


def endpoint_replay(*, endpoint: WebhookEndpoint, event_type: str, since: datetime) -> int:
    """Re-delivers every event of `event_type` since `since` to `endpoint`, oldest first, each
    with its original webhook-id. Returns how many deliveries were queued."""
    from apps.events.models import Event

    errors = {}
    if event_type not in registry["event_types"]:
        errors["event_type"] = [f"Unknown event type “{event_type}”."]
    if since is None:
        errors["since"] = ["Give the time to replay from."]
    elif since > timezone.now():
        errors["since"] = ["The time is in the future."]
    if not endpoint.is_active:
        errors["endpoint"] = ["Enable the endpoint first."]
    if errors:
        raise ValidationError(errors)
    events = list(Event.objects.filter(type=event_type, occurred_at__gte=since).order_by("occurred_at")[:REPLAY_LIMIT])
    for event in events:
        _delivery_for(endpoint, event, is_replay=True)
    return len(events)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def next_delay(attempt_count: int, retry_after: float | None = None) -> float | None:
    """Seconds before the next attempt after `attempt_count` failed ones, or None: give up."""
    if attempt_count >= len(RETRY_SCHEDULE):
        return None
    delay = RETRY_SCHEDULE[attempt_count]
    delay *= 1 + random.uniform(-JITTER, JITTER)  # noqa: S311 - jitter, not cryptography
    if retry_after is not None:
        delay = max(delay, min(retry_after, 24 * 3600))
    return delay


def delivery_attempt(*, delivery_id) -> str:
    """Makes one attempt of a due delivery and schedules the next one. Returns what happened:
    "skipped" (not due, not pending, or another worker has it), "succeeded", "retrying", "failed".

    The delivery row stays locked while the request is in flight: a worker that dies half-way
    leaves it pending (the transaction rolls back) and the sweep sends it again, same webhook-id.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
            .first()
        )
        if delivery is None:
            return "skipped"
        endpoint = delivery.endpoint
        now = timezone.now()
        if not endpoint.is_active:
            _finish(delivery, WebhookDelivery.Status.FAILED, now)
            WebhookAttempt.objects.create(delivery=delivery, url=endpoint.url, error="The endpoint is disabled.")
            return "failed"

        body = delivery.body.encode()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signing.headers(signing_secrets(endpoint, now), delivery.message_id, int(now.timestamp()), body),
        }
        attempt = WebhookAttempt(delivery=delivery, url=endpoint.url, request_headers=_shown(headers))
        started = time.monotonic()
        retryable, retry_after = True, None
        try:
            response = ssrf.post(endpoint.url, body, headers, timeout=settings.HUB_WEBHOOK_TIMEOUT_SECONDS)
        except ssrf.BlockedDestination as exc:
            attempt.error = f"Blocked: {exc}"[:500]
            retryable = False
            ok = False
        except (OSError, ValueError) as exc:
            attempt.error = (str(exc) or type(exc).__name__)[:500]
            ok = False
        else:
            attempt.response_status = response.status
            attempt.response_headers = dict(list(response.headers.items())[:50])
            attempt.response_body = response.body[:1024].decode("utf-8", "replace")
            ok = 200 <= response.status < 300
            if 400 <= response.status < 500 and response.status not in NO_RETRY_4XX_EXCEPT:
                retryable = False
            retry_after = _retry_after_seconds(response.headers.get("retry-after"))
        attempt.duration_ms = int((time.monotonic() - started) * 1000)
        attempt.save()
        delivery.attempt_count += 1

        if ok:
            _finish(delivery, WebhookDelivery.Status.SUCCEEDED, now)
            if endpoint.failing_since is not None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            return "succeeded"

        _endpoint_failed(endpoint, now)
        delay = next_delay(delivery.attempt_count, retry_after) if retryable and endpoint.is_active else None
        if delay is None:
            _finish(delivery, WebhookDelivery.Status.FAILED, now)
            return "failed"
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.save(update_fields=["attempt_count", "next_attempt_at"])
        if delay <= MAX_COUNTDOWN_SECONDS:
            delivery_enqueue_on_commit(delivery, countdown=delay)
        else:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(enqueued_at=None)
        return "retrying"


def _shown(headers: dict) -> dict:
    return dict(headers)  # signatures are per message and useless without the secret: shown as sent


def _finish(delivery: WebhookDelivery, status: str, now) -> None:
    delivery.status = status
    delivery.completed_at = now
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "completed_at", "next_attempt_at", "attempt_count"])


def _endpoint_failed(endpoint: WebhookEndpoint, now) -> None:
    """Marks the endpoint failing; after HUB_WEBHOOK_DISABLE_AFTER_DAYS of failures, disables it
    and tells the tenant's admins (through the webhook.endpoint_disabled event)."""
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        return
    days = settings.HUB_WEBHOOK_DISABLE_AFTER_DAYS
    if now - endpoint.failing_since < timedelta(days=days):
        return
    reason = f"Every delivery failed for {days} days (since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC)."
    endpoint_set_active(endpoint=endpoint, active=False, reason=reason)
    publish(
        "webhook.endpoint_disabled",
        {"endpoint_id": endpoint.pk, "url": endpoint.url, "reason": reason},
        tenant=connection.tenant,
    )


def deliveries_sweep() -> int:
    """Re-enqueues due pending deliveries whose task should have run a while ago (lost with a
    killed worker, or too far in the future for a countdown)."""
    now = timezone.now()
    grace = timedelta(seconds=settings.HUB_EVENTS_SWEEP_GRACE_SECONDS)
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
    lost = due.filter(enqueued_at__isnull=True) | due.filter(enqueued_at__lte=now - grace)
    ids = list(lost.order_by("next_attempt_at").values_list("pk", flat=True)[:1000])
    schema = connection.schema_name
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids).update(enqueued_at=now)
    for delivery_id in ids:
        _send_task(delivery_id, schema, 0)
    return len(ids)
