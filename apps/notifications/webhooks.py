"""Writes on webhooks: endpoints, deliveries and their attempts (Standard Webhooks)."""

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.events import publish
from apps.core.registry import registry
from apps.events.queue import task_enqueue_once
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
# Deliveries to one endpoint sent per round (one lease, one kept-alive connection).
DELIVERY_BATCH = 50
USER_AGENT = "ReactDjango-Hub-Webhooks/1 (+https://www.standardwebhooks.com/)"


# --- endpoints ----------------------------------------------------------------------------------


def _clean(*, url: str, event_types: list[str], description: str) -> tuple[str, list[str], str]:
    errors = {}
    url = (url or "").strip()
    refusal = None if url else "Enter the URL to deliver to."
    if not refusal and len(url) > 1000:
        refusal = "Use at most 1000 characters."
    if not refusal:
        try:
            url = ssrf.destination_clean(url)
        except ssrf.BlockedDestination as exc:
            refusal = str(exc)
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


def _deliveries_create(pairs, **extra) -> list[WebhookDelivery]:
    """One delivery per (endpoint, event), written in bulk; each endpoint's task is sent after commit."""
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint_id=endpoint.pk,
                event=event,
                message_id=message_id_for(event.pk),
                event_type=event.type,
                body=event_body(event),
                next_attempt_at=now,
                enqueued_at=now,
                **extra,
            )
            for endpoint, event in pairs
        ]
    )
    for endpoint_id in dict.fromkeys(d.endpoint_id for d in deliveries):
        _enqueue_after_commit(endpoint_id)
    return deliveries


def deliver_events(events) -> None:
    """Event handler (batch): one delivery per active endpoint subscribed to each event's type."""
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True).only("pk", "event_types"))  # secrets not needed
    _deliveries_create([(endpoint, event) for event in events for endpoint in endpoints if endpoint.wants(event.type)])


def delivery_enqueue_on_commit(delivery: WebhookDelivery, countdown: float = 0) -> None:
    eta = timezone.now() + timedelta(seconds=countdown)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(enqueued_at=eta)
    _enqueue_after_commit(delivery.endpoint_id, countdown)


def _enqueue_after_commit(endpoint_id, countdown: float = 0) -> None:
    """The endpoint's task is sent after commit; `enqueued_at` (when a delivery should be sent)
    lets the sweep find deliveries whose task was lost."""
    schema = connection.schema_name
    transaction.on_commit(lambda: _send_task(endpoint_id, schema, countdown))


def queue_key(endpoint_id) -> str:
    return f"webhooks:{endpoint_id}"


def _send_task(endpoint_id, schema_name: str, countdown: float) -> None:
    from .tasks import deliver_webhooks

    task_enqueue_once(
        deliver_webhooks, schema_name=schema_name, key=queue_key(endpoint_id), args=[endpoint_id], countdown=countdown
    )


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
    events = Event.objects.filter(type=event_type, occurred_at__gte=since).order_by("occurred_at")[:REPLAY_LIMIT]
    return len(_deliveries_create([(endpoint, event) for event in events], is_replay=True))


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


@dataclass
class _Outcome:
    delivery: WebhookDelivery
    attempt: WebhookAttempt
    ok: bool = False
    retryable: bool = True
    retry_after: float | None = None


def _claim(*, endpoint_id=None, delivery_id=None, limit: int) -> list[WebhookDelivery]:
    """Leases due, pending deliveries (of an endpoint, or one) for HUB_WEBHOOK_LEASE_SECONDS and
    commits: no row stays locked during the HTTP calls. A worker that dies leaves its lease to
    expire; then the next task or the sweep sends the deliveries again (same webhook-id)."""
    now = timezone.now()
    with transaction.atomic():
        due = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        )
        due = due.filter(pk=delivery_id) if delivery_id else due.filter(endpoint_id=endpoint_id)
        claimed = list(due.order_by("next_attempt_at", "created")[:limit])
        if claimed:
            until = now + timedelta(seconds=settings.HUB_WEBHOOK_LEASE_SECONDS)
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(leased_until=until)
    return claimed


def endpoint_deliver_due(*, endpoint_id, max_rounds: int = 20) -> int:
    """Sends the endpoint's due deliveries, DELIVERY_BATCH at a time over one kept-alive
    connection, and schedules what failed. Returns how many attempts were made. After
    `max_rounds` it hands over to a new task, so one busy endpoint does not hold a worker."""
    made = 0
    for _ in range(max_rounds):
        deliveries = _claim(endpoint_id=endpoint_id, limit=DELIVERY_BATCH)
        if not deliveries:
            return made
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:  # deleted meanwhile, and its deliveries with it
            return made
        outcomes = _send(endpoint, deliveries)
        made += len(outcomes)
        if len(deliveries) < DELIVERY_BATCH and len(outcomes) == len(deliveries):
            return made
    _send_task(endpoint_id, connection.schema_name, 0)
    return made


def delivery_attempt(*, delivery_id) -> str:
    """Makes one attempt of a due delivery and schedules the next one. Returns what happened:
    "skipped" (not due, not pending, or another worker has it), "succeeded", "retrying", "failed"."""
    claimed = _claim(delivery_id=delivery_id, limit=1)
    if not claimed:
        return "skipped"
    [outcome] = _send(claimed[0].endpoint, claimed)
    return outcome


def _send(endpoint: WebhookEndpoint, deliveries: list[WebhookDelivery]) -> list[str]:
    """Attempts the leased deliveries in order while the lease leaves time for a whole attempt
    (those left over are released for the next round) and records what happened. Returns each
    attempted delivery's outcome, as delivery_attempt() names them."""
    timeout = settings.HUB_WEBHOOK_TIMEOUT_SECONDS
    lease_end = time.monotonic() + settings.HUB_WEBHOOK_LEASE_SECONDS - 1
    outcomes = []
    if endpoint.is_active:
        secrets = signing_secrets(endpoint)
        with ssrf.Session() as session:
            for delivery in deliveries:
                if outcomes and time.monotonic() + timeout > lease_end:
                    break
                outcomes.append(_post(session, endpoint, secrets, delivery))
    else:
        for delivery in deliveries:
            attempt = WebhookAttempt(delivery=delivery, url=endpoint.url, error="The endpoint is disabled.")
            outcomes.append(_Outcome(delivery, attempt, retryable=False))
    left = [d.pk for d in deliveries[len(outcomes) :]]
    if left:
        WebhookDelivery.objects.filter(pk__in=left).update(leased_until=None)
    with transaction.atomic():
        return _record(endpoint, outcomes)


def _post(session: ssrf.Session, endpoint: WebhookEndpoint, secrets: list[str], delivery) -> _Outcome:
    body = delivery.body.encode()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signing.headers(secrets, delivery.message_id, int(time.time()), body),
    }
    outcome = _Outcome(delivery, WebhookAttempt(delivery=delivery, url=endpoint.url, request_headers=_shown(headers)))
    attempt = outcome.attempt
    started = time.monotonic()
    try:
        response = session.post(endpoint.url, body, headers, timeout=settings.HUB_WEBHOOK_TIMEOUT_SECONDS)
    except ssrf.BlockedDestination as exc:
        attempt.error = f"Blocked: {exc}"[:500]
        outcome.retryable = False
    except (OSError, ValueError) as exc:
        attempt.error = (str(exc) or type(exc).__name__)[:500]
    else:
        attempt.response_status = response.status
        attempt.response_headers = dict(list(response.headers.items())[:50])
        attempt.response_body = response.body[:1024].decode("utf-8", "replace")
        outcome.ok = 200 <= response.status < 300
        if 400 <= response.status < 500 and response.status not in NO_RETRY_4XX_EXCEPT:
            outcome.retryable = False
        outcome.retry_after = _retry_after_seconds(response.headers.get("retry-after"))
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _record(endpoint: WebhookEndpoint, outcomes: list[_Outcome]) -> list[str]:
    """Logs the attempts and moves each delivery on: succeeded, failed, or due again later."""
    now = timezone.now()
    WebhookAttempt.objects.bulk_create([o.attempt for o in outcomes])
    succeeded = [o.delivery.pk for o in outcomes if o.ok]
    WebhookDelivery.objects.filter(pk__in=succeeded, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.SUCCEEDED,
        completed_at=now,
        next_attempt_at=None,
        leased_until=None,
        attempt_count=F("attempt_count") + 1,
    )
    results = []
    for outcome in outcomes:
        delivery = outcome.delivery
        if outcome.ok:
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            results.append("succeeded")
            continue
        delivery.attempt_count += 1
        if endpoint.is_active:
            _endpoint_failed(endpoint, now)
        delay = next_delay(delivery.attempt_count, outcome.retry_after) if outcome.retryable else None
        if delay is None or not endpoint.is_active:
            _finish(delivery, WebhookDelivery.Status.FAILED, now)
            results.append("failed")
            continue
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.leased_until = None
        delivery.save(update_fields=["attempt_count", "next_attempt_at", "leased_until"])
        if delay <= MAX_COUNTDOWN_SECONDS:
            delivery_enqueue_on_commit(delivery, countdown=delay)
        else:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(enqueued_at=None)
        results.append("retrying")
    return results


def _shown(headers: dict) -> dict:
    return dict(headers)  # signatures are per message and useless without the secret: shown as sent


def _finish(delivery: WebhookDelivery, status: str, now) -> None:
    delivery.status = status
    delivery.completed_at = now
    delivery.next_attempt_at = None
    delivery.leased_until = None
    delivery.save(update_fields=["status", "completed_at", "next_attempt_at", "leased_until", "attempt_count"])


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
    """Re-enqueues the endpoints of due pending deliveries whose task should have run a while ago
    (lost with a killed worker, or too far in the future for a countdown) and that no worker
    holds (no lease, or an expired one). Returns how many deliveries it found."""
    now = timezone.now()
    grace = timedelta(seconds=settings.HUB_EVENTS_SWEEP_GRACE_SECONDS)
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lte=now)
    )
    lost = due.filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - grace))
    rows = list(lost.order_by("next_attempt_at").values_list("pk", "endpoint_id")[:1000])
    if rows:
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(enqueued_at=now)
    schema = connection.schema_name
    for endpoint_id in dict.fromkeys(endpoint_id for _, endpoint_id in rows):
        _send_task(endpoint_id, schema, 0)
    return len(rows)
