"""Writes on webhooks: endpoints, deliveries and their attempts (Standard Webhooks)."""

import http.client
import json
import logging
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core import metrics, ssrf
from apps.core.caching import topics_bump_on_commit
from apps.core.events import publish
from apps.core.registry import registry
from apps.core.taskref import TaskRef
from apps.events.queue import Hold, task_enqueue_once
from apps.identity.models import User

from . import signing
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
# Deliveries to one endpoint leased at a time (more when HUB_WEBHOOK_ENDPOINT_CONCURRENCY is higher).
DELIVERY_BATCH = 50
USER_AGENT = "ReactDjango-Hub-Webhooks/1 (+https://www.standardwebhooks.com/)"
DELIVER_WEBHOOKS = TaskRef("apps.notifications.tasks.deliver_webhooks")


# --- endpoints ----------------------------------------------------------------------------------


def destination_policy() -> ssrf.Policy:
    """Where webhooks (and pushes) may go: public https addresses. The test settings allow http
    and loopback for their local receiver (HUB_WEBHOOK_REQUIRE_HTTPS, HUB_WEBHOOK_ALLOW_LOOPBACK)."""
    return ssrf.Policy(http=not settings.HUB_WEBHOOK_REQUIRE_HTTPS, loopback=settings.HUB_WEBHOOK_ALLOW_LOOPBACK)


def _clean(*, url: str, event_types: list[str], description: str) -> tuple[str, list[str], str]:
    errors = {}
    url = (url or "").strip()
    refusal = None if url else "Enter the URL to deliver to."
    if not refusal and len(url) > 1000:
        refusal = "Use at most 1000 characters."
    if not refusal:
        try:
            url = ssrf.destination_clean(url, destination_policy())
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
    topics_bump_on_commit("webhook")  # the getting-started step "Add a webhook"
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
    topics_bump_on_commit("webhook")


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
    task_enqueue_once(
        DELIVER_WEBHOOKS, schema_name=schema_name, key=queue_key(endpoint_id), args=[endpoint_id], countdown=countdown
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


def _claim(*, endpoint_id=None, delivery_id=None, limit: int, until: float) -> list[WebhookDelivery]:
    """Leases due, pending deliveries (of an endpoint, or one) until `until` (unix time) and
    commits: no row stays locked during the HTTP calls. A worker that dies leaves its lease to
    expire; then its work is sent again (same webhook-id)."""
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
            leased_until = datetime.fromtimestamp(until, tz=UTC)
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(leased_until=leased_until)
    return claimed


def _has_due(endpoint_id) -> bool:
    now = timezone.now()
    return (
        WebhookDelivery.objects.filter(
            endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .exists()
    )


def endpoint_deliver_due(*, endpoint_id) -> int:
    """Sends the endpoint's due deliveries, up to HUB_WEBHOOK_ENDPOINT_CONCURRENCY at a time, for
    one turn of HUB_WEBHOOK_SLICE_SECONDS, and schedules what failed. Returns how many attempts
    were made. One task at a time serves an endpoint, and at most HUB_WEBHOOK_TENANT_ENDPOINTS
    endpoints of a tenant are served at once (apps.events.queue.Hold); a task that finds its
    endpoint served returns at once, one that finds its tenant's places taken is sent again when
    one frees up. After its turn, a task with work left sends a new one, which queues behind the
    other endpoints' tasks."""
    schema = connection.schema_name
    hold = Hold(
        DELIVER_WEBHOOKS,
        schema_name=schema,
        key=queue_key(endpoint_id),
        args=[endpoint_id],
        lease_seconds=settings.HUB_WEBHOOK_LEASE_SECONDS,
        group="webhooks",
        cap=settings.HUB_WEBHOOK_TENANT_ENDPOINTS,
    )
    if hold.acquire() != "ok":
        return 0
    made = _Turn(endpoint_id, hold).run()  # if it fails, the hold runs out and the task is sent again
    hold.release()
    if _has_due(endpoint_id):  # left for the next turn, or arrived while this one ended
        _send_task(endpoint_id, schema, 0)
    return made


class _Turn:
    """One task's turn at an endpoint. The calling thread leases due deliveries (until the hold
    runs out) a batch at a time, oldest first, and lines them up; HUB_WEBHOOK_ENDPOINT_CONCURRENCY
    sender threads take them in that order, one at a time each, each over its own SSRF-safe
    session (one kept-alive connection), and hand back the outcomes, which the calling thread
    records a batch at a time (DELIVERY_BATCH, or after RECORD_DELAY). The senders only talk HTTP
    and never wait for the database. While the turn runs, the hold and the leases are renewed every
    quarter of HUB_WEBHOOK_LEASE_SECONDS, so a request may take longer than the lease, and a dead
    worker's deliveries are free again within a lease. When the turn is over it lines up nothing
    more, takes back (and frees) what no sender has started, and waits for the requests in
    flight."""

    CLAIM_PAUSE = 0.05  # after a claim that found less than it asked for, look again after this long
    RECORD_DELAY = 0.2  # an outcome waits at most this long for others to be recorded with

    def __init__(self, endpoint_id, hold: Hold):
        self.endpoint_id = endpoint_id
        self.hold = hold
        self.size = max(1, settings.HUB_WEBHOOK_ENDPOINT_CONCURRENCY)
        self.lined_up: queue.SimpleQueue = queue.SimpleQueue()  # leased, for the senders to take
        self.done: queue.SimpleQueue = queue.SimpleQueue()  # their outcomes
        self.senders: list[threading.Thread] = []
        self.in_hand: dict = {}  # leased and not yet recorded, by pk
        self.handed = 0  # deliveries given to the senders whose outcome has not come back
        self.outcomes: list[_Outcome] = []  # not yet recorded
        self.record_by = 0.0
        self.made = 0

    def run(self) -> int:
        self.endpoint = WebhookEndpoint.objects.filter(pk=self.endpoint_id).first()
        if self.endpoint is None:  # deleted meanwhile, and its deliveries with it
            return 0
        self.secrets = signing_secrets(self.endpoint)
        ends = time.monotonic() + settings.HUB_WEBHOOK_SLICE_SECONDS
        next_claim = 0.0
        try:
            while time.monotonic() < ends and self.hold_kept():
                if self.lined_up.qsize() < self.size and time.monotonic() >= next_claim:
                    asked = max(DELIVERY_BATCH, self.size)
                    claimed = _claim(endpoint_id=self.endpoint_id, limit=asked, until=self.hold.until)
                    next_claim = 0.0 if len(claimed) == asked else time.monotonic() + self.CLAIM_PAUSE
                    self.line_up(claimed)
                    if not claimed and not self.handed:
                        break  # nothing is due, nothing in flight
                wake = min(ends, self.next_renewal())
                if self.lined_up.qsize() < self.size:
                    wake = min(wake, next_claim)  # look for new work when allowed
                self.collect(wake)
            self.take_back()
        finally:
            for _ in self.senders:
                self.lined_up.put(None)  # each sender stops when it gets to one of these
            while self.handed:
                self.collect(self.next_renewal())
                self.hold_kept()
            for sender in self.senders:
                sender.join()
            self.record()
        return self.made

    def line_up(self, deliveries: list[WebhookDelivery]) -> None:
        for delivery in deliveries:
            self.in_hand[delivery.pk] = delivery
            if self.endpoint.is_active:
                self.lined_up.put(delivery)
                self.handed += 1
            else:
                attempt = WebhookAttempt(delivery=delivery, url=self.endpoint.url, error="The endpoint is disabled.")
                self.finished([_Outcome(delivery, attempt, retryable=False)])
        while len(self.senders) < min(self.size, self.handed):
            sender = threading.Thread(target=self.send, name="webhook-sender", daemon=True)
            sender.start()
            self.senders.append(sender)

    def send(self) -> None:
        """A sender thread: the lined-up deliveries, one at a time, until it gets a None."""
        with ssrf.Session(destination_policy()) as session:
            while (delivery := self.lined_up.get()) is not None:
                self.done.put(_post(session, self.endpoint, self.secrets, delivery))

    def take_back(self) -> None:
        """Frees the leases of what no sender has started (for the next turn)."""
        back = []
        while True:
            try:
                back.append(self.lined_up.get_nowait())
            except queue.Empty:
                break
        if back:
            self.handed -= len(back)
            for delivery in back:
                del self.in_hand[delivery.pk]
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in back]).update(leased_until=None)

    def collect(self, until: float) -> None:
        """Takes the outcomes that came back, waiting until `until` (monotonic) for one if none
        has; records them when the batch is full or the oldest has waited RECORD_DELAY."""
        if self.outcomes:
            until = min(until, self.record_by)
        came = []
        try:
            came.append(self.done.get(timeout=max(0.0, until - time.monotonic())))
            while True:
                came.append(self.done.get_nowait())
        except queue.Empty:
            pass
        self.handed -= len(came)
        self.finished(came)
        if self.outcomes and (len(self.outcomes) >= DELIVERY_BATCH or time.monotonic() >= self.record_by):
            self.record()

    def finished(self, outcomes: list[_Outcome]) -> None:
        if outcomes and not self.outcomes:
            self.record_by = time.monotonic() + self.RECORD_DELAY
        self.outcomes.extend(outcomes)

    def record(self) -> None:
        if self.outcomes:
            with transaction.atomic():
                self.made += len(_record(self.endpoint, self.outcomes))
            for outcome in self.outcomes:
                self.in_hand.pop(outcome.delivery.pk, None)
            self.outcomes = []

    def next_renewal(self) -> float:
        """When (monotonic) the hold is due for renewal."""
        return time.monotonic() + max(0.0, self.hold.until - self.hold.lease_seconds * 0.75 - time.time())

    def hold_kept(self) -> bool:
        """Renews the hold and the leases of the deliveries in hand when due. False once the hold
        was lost (taken for dead): then the turn ends."""
        if not self.hold.renew_due():
            return True
        kept = self.hold.renew()
        if kept and self.in_hand:
            WebhookDelivery.objects.filter(pk__in=list(self.in_hand), status=WebhookDelivery.Status.PENDING).update(
                leased_until=datetime.fromtimestamp(self.hold.until, tz=UTC)
            )
        return kept


def delivery_attempt(*, delivery_id) -> str:
    """Makes one attempt of a due delivery and schedules the next one. Returns what happened:
    "skipped" (not due, not pending, or another worker has it), "succeeded", "retrying", "failed"."""
    # One attempt, with no hold renewing the lease: it lasts the whole timeout and a lease more.
    until = time.time() + settings.HUB_WEBHOOK_TIMEOUT_SECONDS + settings.HUB_WEBHOOK_LEASE_SECONDS
    claimed = _claim(delivery_id=delivery_id, limit=1, until=until)
    if not claimed:
        return "skipped"
    delivery = claimed[0]
    endpoint = delivery.endpoint
    if endpoint.is_active:
        with ssrf.Session(destination_policy()) as session:
            outcome = _post(session, endpoint, signing_secrets(endpoint), delivery)
    else:
        attempt = WebhookAttempt(delivery=delivery, url=endpoint.url, error="The endpoint is disabled.")
        outcome = _Outcome(delivery, attempt, retryable=False)
    with transaction.atomic():
        [result] = _record(endpoint, [outcome])
    return result


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
    except (OSError, ValueError, http.client.HTTPException) as exc:
        attempt.error = (str(exc) or type(exc).__name__)[:500]
    except Exception as exc:  # noqa: BLE001 - logged as the attempt's error and retried; the others go on
        logger.exception("webhook request to %s failed unexpectedly", endpoint.url)
        attempt.error = f"{type(exc).__name__}: {exc}"[:500]
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
    for result in results:
        metrics.webhook_deliveries.labels(outcome=result).inc()
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
