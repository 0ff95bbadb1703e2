"""Tells the organisation's open pages that its analytics data changed (new events committed),
so dashboards re-fetch their charts. The message carries no data, only its name: each page asks
again with its member's rights (apps/notifications/consumers.py sends it as {"type": "signal"}).

At most one push per tenant per process every MIN_SECONDS: a busy writer commits many times a
second, and the pages re-fetch at most every 2 seconds anyway."""

import threading
import time

from apps.core import realtime

SIGNAL = "analytics.data_changed"
MIN_SECONDS = 1.0
_last: dict[str, float] = {}
_lock = threading.Lock()


def data_changed(schema: str) -> bool:
    """Pushes the signal to `schema`'s pages unless it was pushed less than MIN_SECONDS ago from
    this process; True when sent."""
    now = time.monotonic()
    with _lock:
        if now - _last.get(schema, -MIN_SECONDS) < MIN_SECONDS:
            return False
        _last[schema] = now
    return realtime.group_send(realtime.tenant_group(schema), {"type": "hub.signal", "name": SIGNAL})
