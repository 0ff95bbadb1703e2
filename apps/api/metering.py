"""Rate limits and usage metering, both in Redis, in one round trip per request.

Rate limit: a fixed one-minute window per principal (an API key, or a logged-in user on the
dashboards' own calls), at the limit of the tenant's plan (settings.HUB_API_RATE_LIMITS).
Usage: calls per key per day (UTC) in a Redis hash per tenant and day, plus the key's last-use
time; `usage_flush` (a Celery beat task) adds them to ApiKeyUsage / ApiKey.last_used_at.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from .keycache import GLOBAL_VERSION_KEY, redis, version_key

WINDOW = 60
USAGE_TTL = 8 * 24 * 3600  # unflushed counts survive a week of flush outages


def usage_key(schema: str, day: str) -> str:
    return f"hub:api:usage:{schema}:{day}"


def last_used_key(schema: str) -> str:
    return f"hub:api:last-used:{schema}"


@dataclass
class RateLimit:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(self.remaining, 0)),
            "RateLimit-Reset": str(self.reset),
        }


def plan_limit(tenant) -> int:
    limits = settings.HUB_API_RATE_LIMITS
    return int(limits.get(tenant.plan, limits["free"]))


def hit(*, tenant, principal: str, key_id: int | None) -> tuple[RateLimit, tuple]:
    """Counts one call of `principal` ("key:<id>" / "user:<id>"); for a key also its usage.
    Returns the rate-limit state and the key-cache versions read in the same round trip."""
    now = time.time()
    window = int(now // WINDOW)
    schema = tenant.schema_name
    counter = f"hub:api:rl:{schema}:{principal}:{window}"
    pipe = redis().pipeline(transaction=False)
    pipe.mget([GLOBAL_VERSION_KEY, version_key(schema)])
    pipe.incr(counter)
    pipe.expire(counter, WINDOW + 5)
    if key_id is not None:
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        pipe.hincrby(usage_key(schema, day), str(key_id), 1)
        pipe.expire(usage_key(schema, day), USAGE_TTL)
        pipe.hset(last_used_key(schema), str(key_id), str(now))
    results = pipe.execute()
    limit = plan_limit(tenant)
    reset = max(1, int((window + 1) * WINDOW - now + 0.999))
    return RateLimit(limit=limit, remaining=limit - int(results[1]), reset=reset), tuple(results[0])
