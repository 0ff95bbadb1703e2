"""Rate limits and usage metering, both in Redis, in one round trip per request.

Rate limit: a fixed one-minute window per principal (an API key, or a logged-in user on the
dashboards' own calls), at the limit of the tenant's plan (settings.HUB_API_RATE_LIMITS).
Usage: calls per key per day (UTC) in a Redis hash per tenant and day, plus the key's last-use
time; `usage_flush` (a Celery beat task) adds them to ApiKeyUsage / ApiKey.last_used_at.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from redis.exceptions import NoScriptError

from .keycache import GLOBAL_VERSION_KEY, redis, version_key

log = logging.getLogger(__name__)
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


# One round trip, one command: read the key-cache versions, count the call in its minute, and for
# a key its usage of the day and its last use.
SCRIPT = """
local n = redis.call('INCR', KEYS[3])
if n == 1 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end
if ARGV[2] ~= '' then
  redis.call('HINCRBY', KEYS[4], ARGV[2], 1)
  redis.call('EXPIRE', KEYS[4], ARGV[3])
  redis.call('HSET', KEYS[5], ARGV[2], ARGV[4])
end
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), n}
"""
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()


class PendingHit:
    """One call counted in Redis: the command is sent at once and the reply read later, so a read
    request overlaps the Redis round trip with its own database work."""

    def __init__(self, *, tenant, principal: str, key_id: int | None):
        now = time.time()
        window = int(now // WINDOW)
        schema = tenant.schema_name
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        self._args = (
            5,
            GLOBAL_VERSION_KEY,
            version_key(schema),
            f"hub:api:rl:{schema}:{principal}:{window}",
            usage_key(schema, day),
            last_used_key(schema),
            WINDOW + 5,
            "" if key_id is None else str(key_id),
            USAGE_TTL,
            repr(now),
        )
        self.limit = plan_limit(tenant)
        self.reset = max(1, int((window + 1) * WINDOW - now + 0.999))
        self._pool = redis().connection_pool
        self._conn = None
        try:
            self._conn = self._pool.get_connection()
            self._conn.send_packed_command(self._conn.pack_commands([("EVALSHA", SCRIPT_SHA, *self._args)]))
        except Exception:
            log.warning("API metering unavailable (Redis)", exc_info=True)
            self._drop()

    def result(self) -> tuple[RateLimit | None, tuple | None]:
        """(rate-limit state, key-cache versions); (None, None) when Redis could not answer:
        the call is then not limited, and cached keys are checked against the database."""
        if self._conn is None:
            return None, None
        try:
            try:
                reply = self._conn.read_response()
            except NoScriptError:  # a fresh (or flushed) Redis: load the script with this call
                reply = self._eval()
        except Exception:
            log.warning("API metering unavailable (Redis)", exc_info=True)
            self._drop()
            return None, None
        self._pool.release(self._conn)
        self._conn = None
        versions, count = (reply[0], reply[1]), int(reply[2])
        return RateLimit(limit=self.limit, remaining=self.limit - count, reset=self.reset), versions

    def _eval(self):
        self._conn.send_packed_command(self._conn.pack_commands([("EVAL", SCRIPT, *self._args)]))
        return self._conn.read_response()

    def _drop(self):
        if self._conn is not None:
            self._conn.disconnect()  # unread replies: the connection cannot be reused
            self._pool.release(self._conn)
            self._conn = None

    abandon = _drop
