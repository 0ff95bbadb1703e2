"""Posts chosen events to a chat service's incoming webhook (after the dispatch commits)."""

import json
import logging

from django.db import transaction

from apps.core import ssrf
from apps.core.registry import registry
from apps.marketplace.selectors import plugin_settings
from apps.notifications.webhooks import destination_policy

log = logging.getLogger(__name__)
TIMEOUT = 5.0


def message_body(service: str, text: str) -> dict:
    """The JSON each service's incoming webhook takes for a plain message."""
    if service == "discord":
        return {"content": text[:2000]}
    if service == "teams":
        return {"text": text}
    return {"text": text}  # Slack


def post_chosen_events(events) -> None:
    """Event handler (every type, batched): the events the organisation chose, one message each,
    posted once the dispatch has committed (nothing is posted for a dispatch that rolls back)."""
    found = plugin_settings("chatnotify")
    chosen = set(found.values.get("events") or [])
    url = found.values.get("webhook_url")
    if not url or not chosen:
        return
    texts = [registry.event_sentence(e) for e in events if e.type in chosen]
    if texts:
        service = found.values.get("service", "slack")
        transaction.on_commit(lambda: send(url=url, service=service, texts=texts))


def send(*, url: str, service: str, texts: list[str]) -> int:
    """POSTs each text; returns how many the service accepted (a refusal is logged, not raised:
    a chat being away must not hold the hub's events back)."""
    sent = 0
    with ssrf.Session(destination_policy()) as session:
        for text in texts:
            body = json.dumps(message_body(service, text)).encode()
            try:
                answer = session.post(url, body, {"Content-Type": "application/json"}, timeout=TIMEOUT)
            except (ssrf.BlockedDestination, OSError) as exc:
                log.warning("chat notifier: not posted to its webhook: %s", exc)
                return sent
            if 200 <= answer.status < 300:
                sent += 1
            else:
                log.warning("chat notifier: the webhook answered %s", answer.status)
    return sent
