"""Rate limits and usage metering, kept in Redis, for a fraction of a round trip per call.

Rate limit: announced in RateLimit-Policy / RateLimit headers (and, deprecated, RateLimit-Limit,
-Remaining, -Reset). A fixed one-minute window per principal (an API key, or a logged-in user on the
dashboards' own calls), at the limit of the tenant's plan (settings.HUB_API_RATE_LIMITS), counted
in Redis under `hub:api:rl:<schema>:<principal>:<window>`. A process does not ask Redis about
every call: it reserves a lease of calls at once (INCRBY n, n = 1 % of the limit, 1 to 50) and
hands them out itself. So a key on the free plan (n = 1) is counted call by call, a busy key asks
Redis once every n calls, and a key spread over P processes can be refused at most P × (n − 1)
calls before its limit, never after it. A window found exhausted is refused without asking
Redis again until it ends.

Usage: calls per key per day (UTC), counted in the process and added to a Redis hash per tenant
and day (with the key's last-use time) by a background thread about once a second, and at exit;
`usage_flush` (a Celery beat task) moves them into ApiKeyUsage / ApiKey.last_used_at. Readers in
this process call `meter.flush()` first, so they see their own calls at once.
"""

import atexit
import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django_redis import get_redis_connection

log = logging.getLogger(__name__)
WINDOW = 60
POLICY = "default"  # the name of the one quota policy in RateLimit-Policy / RateLimit
USAGE_TTL = 8 * 24 * 3600  # unflushed counts survive a week of flush outages
FLUSH_SECONDS = 1.0
MAX_LEASE = 50


def usage_key(schema: str, day: str) -> str:
    return f"hub:api:usage:{schema}:{day}"


def last_used_key(schema: str) -> str:
    return f"hub:api:last-used:{schema}"


def lease_size(limit: int) -> int:
    return max(1, min(MAX_LEASE, limit // 100))


@dataclass
class RateLimit:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict:
        """RateLimit-Policy and RateLimit as draft-ietf-httpapi-ratelimit-headers has them
        (structured fields: the policy's quota q per window w; what is left, r, and the seconds
        until the window ends, t), and the deprecated fields of its earlier drafts."""
        remaining = max(self.remaining, 0)
        return {
            "RateLimit-Policy": f'"{POLICY}";q={self.limit};w={WINDOW}',
            "RateLimit": f'"{POLICY}";r={remaining};t={self.reset}',
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(self.reset),
        }


def plan_limit(tenant) -> int:
    limits = settings.HUB_API_RATE_LIMITS
    return int(limits.get(tenant.plan, limits["free"]))


def _take(counter: str, n: int) -> int | None:
    """Takes `n` calls of a window's counter in Redis: the count after them (None: no answer)."""
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        pipe.incrby(counter, n)
        pipe.expire(counter, WINDOW + 5)
        return pipe.execute()[0]
    except Exception:
        log.warning("API rate limit unavailable (Redis)", exc_info=True)
        return None


@dataclass
class _Lease:
    window: int
    next: int  # the window's call number the next call of this process takes
    last: int  # the last number reserved by this process


class Meter:
    def __init__(self):
        self._reset()

    def _reset(self):
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._flusher = None  # threads do not survive a fork
        self.clear()

    def clear(self):
        """Forgets leases and unflushed counts (tests: after Redis was emptied)."""
        self._leases: dict[tuple[str, str], _Lease] = {}
        self._usage: Counter = Counter()  # (schema, day, key id) -> calls not yet in Redis
        self._last_used: dict[tuple[str, int], float] = {}

    def hit(self, *, tenant, principal: str, key_id: int | None, cost: int = 1) -> RateLimit | None:
        """Counts one call; its rate-limit state, or None when Redis could not answer (the call
        is then not limited). A call that `cost`s more than 1 (a GraphQL query, priced before it
        runs: apps.api.graphql.cost) takes that many of the window's calls at once, from Redis."""
        if self._pid != os.getpid():  # a forked worker starts afresh
            self._reset()
        now = time.time()
        window = int(now // WINDOW)
        schema = tenant.schema_name
        limit = plan_limit(tenant)
        reset = max(1, int((window + 1) * WINDOW - now + 0.999))
        if key_id is not None:
            self._count_usage(schema, key_id, now)
        counter = f"hub:api:rl:{schema}:{principal}:{window}"
        if cost != 1:
            total = _take(counter, cost)
            return None if total is None else RateLimit(limit=limit, remaining=limit - total, reset=reset)
        with self._lock:
            lease = self._leases.get((schema, principal))
            if lease is not None and lease.window == window and (lease.next <= lease.last or lease.next > limit):
                number = lease.next
                lease.next += 1
                return RateLimit(limit=limit, remaining=limit - number, reset=reset)
        n = lease_size(limit)
        total = _take(counter, n)
        if total is None:
            return None
        number = total - n + 1
        with self._lock:
            self._leases[(schema, principal)] = _Lease(window=window, next=number + 1, last=min(total, limit))
            if len(self._leases) > 10_000:  # principals of past windows
                self._leases = {k: v for k, v in self._leases.items() if v.window == window}
        return RateLimit(limit=limit, remaining=limit - number, reset=reset)

    def _count_usage(self, schema: str, key_id: int, now: float):
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        with self._lock:
            self._usage[(schema, day, key_id)] += 1
            self._last_used[(schema, key_id)] = now
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_forever, name="api-usage-flush", daemon=True)
                self._flusher.start()

    def _flush_forever(self):
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        """Adds this process's counted calls to Redis (kept for the next try if Redis fails)."""
        if self._pid != os.getpid():
            return
        with self._lock:
            usage, self._usage = self._usage, Counter()
            last_used, self._last_used = self._last_used, {}
        if not usage and not last_used:
            return
        try:
            pipe = get_redis_connection("default").pipeline(transaction=False)
            for (schema, day, key_id), n in usage.items():
                pipe.hincrby(usage_key(schema, day), str(key_id), n)
                pipe.expire(usage_key(schema, day), USAGE_TTL)
            for (schema, key_id), at in last_used.items():
                pipe.hset(last_used_key(schema), str(key_id), repr(at))
            pipe.execute()
        except Exception:
            log.warning("API usage not flushed to Redis; kept for the next try", exc_info=True)
            with self._lock:
                self._usage.update(usage)
                for name, at in last_used.items():
                    self._last_used[name] = max(at, self._last_used.get(name, at))


meter = Meter()
atexit.register(meter.flush)
