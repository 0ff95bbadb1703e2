"""The way from a capture request to the writer: a reliable queue in Redis, per tenant.

A request appends its validated events, as one JSON blob, to the tenant's list
`hub:analytics:queue:<schema>` (LPUSH) and makes sure a writer task is on its way. A writer
run takes a claim (a token in the sorted set `hub:analytics:claims:<schema>`, scored by when it
runs out) and moves blobs one by one, atomically, from the queue to its own processing list
`hub:analytics:processing:<schema>:<token>` (LMOVE). Only after the database has committed them
does it delete that list. So:

- a writer that dies between taking and committing leaves its blobs in its processing list; once
  its claim has run out (HUB_ANALYTICS_WRITER_LEASE_SECONDS without renewal) `recover()` — run
  by the next writer and by the periodic sweep — moves them back to the queue;
- a writer that dies after committing but before deleting its list has them written again, which
  changes nothing (writes are idempotent by uuid, see storage.py);
- writers of one tenant can run side by side: each takes different blobs.
"""

import secrets
import time

from django_redis import get_redis_connection

from apps.events.queue import redis_script


def _redis():
    return get_redis_connection("default")


def queue_key(schema: str) -> str:
    return f"hub:analytics:queue:{schema}"


def claims_key(schema: str) -> str:
    return f"hub:analytics:claims:{schema}"


def processing_key(schema: str, token: str) -> str:
    return f"hub:analytics:processing:{schema}:{token}"


_TAKE = """
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
for i = 1, tonumber(ARGV[1]) do
  if not redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') then break end
end
return redis.call('LRANGE', KEYS[2], 0, -1)
"""

_RECOVER = """
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local moved = 0
for _, token in ipairs(dead) do
  local processing = ARGV[2] .. token
  while redis.call('LMOVE', processing, KEYS[1], 'RIGHT', 'RIGHT') do moved = moved + 1 end
  redis.call('ZREM', KEYS[2], token)
end
return moved
"""


def push(schema: str, blob: bytes) -> None:
    _redis().lpush(queue_key(schema), blob)


def length(schema: str) -> int:
    return _redis().llen(queue_key(schema))


class Claim:
    """One writer run's claim on the blobs it takes (see the module's docstring)."""

    def __init__(self, schema: str, lease_seconds: float):
        self.schema = schema
        self.lease_seconds = lease_seconds
        self.token = secrets.token_hex(8)
        self.processing = processing_key(schema, self.token)

    def take(self, count: int) -> list[bytes]:
        """Moves up to `count` blobs from the queue to this claim's processing list (renewing
        the claim) and returns everything in that list."""
        until = time.time() + self.lease_seconds
        keys = [queue_key(self.schema), self.processing, claims_key(self.schema)]
        return list(redis_script(_TAKE)(keys=keys, args=[count, until, self.token]))

    def done(self) -> None:
        """The blobs taken are committed: forget them."""
        _redis().delete(self.processing)

    def give_back(self) -> None:
        """The blobs taken could not be written: back to the queue, for a later writer."""
        client = _redis()
        while client.lmove(self.processing, queue_key(self.schema), "RIGHT", "RIGHT"):
            pass
        client.zrem(claims_key(self.schema), self.token)

    def release(self) -> None:
        client = _redis()
        client.delete(self.processing)
        client.zrem(claims_key(self.schema), self.token)


def recover(schema: str, *, now: float | None = None) -> int:
    """Moves the blobs of every claim that ran out (its writer died) back to the queue; returns
    how many blobs."""
    now = time.time() if now is None else now
    return int(
        redis_script(_RECOVER)(keys=[queue_key(schema), claims_key(schema)], args=[now, processing_key(schema, "")])
    )


def claims_wait(schema: str, *, timeout: float) -> None:
    """Waits until no writer of the tenant holds a live claim (a dead writer's claim runs out
    with its lease); TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while _redis().zcount(claims_key(schema), time.time(), "+inf"):
        if time.monotonic() > deadline:
            raise TimeoutError("A writer of this organisation is still writing; try the move again.")
        time.sleep(0.2)
