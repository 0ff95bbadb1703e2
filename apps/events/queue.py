"""Sending a task once: at most one queued, not yet started copy of a task per tenant and key.

A task per event would cost the worker more than the work itself, so the senders of the event
spine (publish, the webhook handler) ask for "the tenant's outbox to be dispatched" or "this
endpoint's due deliveries to be sent", and the task takes everything there is. The sender sets a
flag in Redis (SET NX with a short expiry) and sends the task only if it set the flag; the task
clears the flag first thing, before it reads the database, so whatever was committed before a
send was skipped is seen by the copy already queued. If sending fails the flag is dropped; if the
queued copy is lost (a killed worker) the flag expires after FLAG_SECONDS, and the periodic sweep
catches up with anything left. Without Redis the task is simply sent every time.
"""

import json
import logging
import secrets
import time

from django_redis import get_redis_connection

from apps.core.taskref import TaskRef

logger = logging.getLogger(__name__)

FLAG_SECONDS = 10


def _flag(schema_name: str, key: str) -> str:
    return f"hub:queued:{schema_name}:{key}"


def _redis():
    return get_redis_connection("default")


def task_enqueue_once(task, *, schema_name: str, key: str, args=(), countdown: float | None = None) -> None:
    """Sends `task(*args)` to run in `schema_name`'s schema unless a copy (same key) is queued and
    has not started. A countdown always sends (a delayed copy does not stand for an immediate one)."""
    flag = _flag(schema_name, key)
    if not countdown:
        try:
            if not _redis().set(flag, 1, nx=True, ex=FLAG_SECONDS):
                return
        except Exception:  # noqa: BLE001 - Redis is down: send it anyway
            flag = None
    try:
        task.apply_async(args=list(args), countdown=countdown or None, headers={"_schema_name": schema_name})
    except Exception:  # noqa: BLE001 - the rows are safe in the database; the sweep will send it
        logger.warning("could not enqueue %s for %s; the sweep will", key, schema_name)
        if flag and not countdown:
            task_started(schema_name=schema_name, key=key)


def task_started(*, schema_name: str, key: str) -> None:
    """The task calls this before it reads anything: later commits need a new copy of it."""
    try:
        _redis().delete(_flag(schema_name, key))
    except Exception:  # noqa: BLE001 - the flag expires by itself
        logger.warning("could not clear the queued flag %s of %s", key, schema_name)


# --- holding work ---------------------------------------------------------------------------------
#
# A task that works through a tenant's queue of work (the outbox, an endpoint's due deliveries)
# holds it while it runs: an entry in the sorted set HOLDERS whose score is when the hold runs
# out (unix time), renewed by the task while it works. Whatever the task leases in the database
# it leases until no later than that, so once a hold has run out its work is free again. A hold
# that runs out belonged to a dead worker: recover_held() (beat, every few seconds) sends its task
# again. An exclusive hold is one task at a time per tenant and key; a group with a cap bounds how
# many keys of one tenant are held at once. The tasks that find no free place wait in a line of the
# tenant's (a sorted set, by arrival): when a holder lets go, the tasks at the head of the line, as
# many as there are free places, are sent again, and a place goes to a task of the line's head or,
# when there are more free places than tasks waiting, to a newcomer. So the keys of a busy tenant
# take turns, first come, first served.

HOLDERS = "hub:holders"
TOKENS = "hub:holders:tokens"

_ACQUIRE = """
local member, token, expires, now, cap, flag_ms = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]),
  tonumber(ARGV[5]), tonumber(ARGV[6])
local score = redis.call('ZSCORE', KEYS[1], member)
if score and tonumber(score) > now then
  if flag_ms > 0 then redis.call('SET', KEYS[5], 1, 'PX', flag_ms) end
  return 'held'
end
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  local free = cap - redis.call('ZCARD', KEYS[3])
  local ahead = redis.call('ZRANK', KEYS[4], member) or redis.call('ZCARD', KEYS[4])
  if ahead >= free then
    redis.call('ZADD', KEYS[4], 'NX', now, member)
    return 'wait'
  end
  redis.call('ZADD', KEYS[3], expires, member)
  redis.call('ZREM', KEYS[4], member)
end
redis.call('ZADD', KEYS[1], expires, member)
redis.call('HSET', KEYS[2], member, token)
if flag_ms > 0 then redis.call('SET', KEYS[5], 1, 'PX', flag_ms) end
return 'ok'
"""

_RENEW = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) end
if tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[5], 1, 'PX', ARGV[4]) end
return 1
"""

_RELEASE = """
local member, token, now, cap = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('HGET', KEYS[2], member) == token then
  redis.call('ZREM', KEYS[1], member)
  redis.call('HDEL', KEYS[2], member)
  redis.call('ZREM', KEYS[3], member)
  if tonumber(ARGV[5]) > 0 then redis.call('DEL', KEYS[5]) end
end
if cap == 0 then return {} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local free = cap - redis.call('ZCARD', KEYS[3])
if free <= 0 then return {} end
return redis.call('ZRANGE', KEYS[4], 0, free - 1)
"""

_RECOVER = """
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(dead) do
  redis.call('ZREM', KEYS[1], member)
  redis.call('HDEL', KEYS[2], member)
end
return dead
"""

_scripts: dict = {}


def redis_script(source: str):
    """A Lua script on the hub's Redis, registered once per client (the call runs EVALSHA,
    loading the script when Redis lacks it). Other apps' queues use it too."""
    client = _redis()
    script = _scripts.get((id(client), source))
    if script is None:
        script = _scripts[(id(client), source)] = client.register_script(source)
    return script


class Hold:
    """A task's hold on (tenant, key): see above. acquire() says "ok" (go ahead), "held" (another
    task has it: that one will see the work) or "wait" (the tenant's group is full: the task is
    sent again when a holder of the group lets go). `until` is when the hold runs out: lease
    nothing longer. While an exclusive hold is held, the key's queued flag stays set, so
    task_enqueue_once() sends no copy that would only find it held: the holder keeps looking for
    new work, and looks once more after it let go. Without Redis every acquire is "ok" and nothing
    is recovered early (the periodic sweep still is)."""

    def __init__(
        self,
        task,
        *,
        schema_name: str,
        key: str,
        args=(),
        lease_seconds: float,
        group: str = "",
        cap: int = 0,
        exclusive: bool = True,
    ):
        self.lease_seconds = lease_seconds
        self.cap = cap if group else 0
        self.token = secrets.token_hex(8)
        parts = [schema_name, task.name, key, list(args)]
        self.member = json.dumps(parts if exclusive else [*parts, self.token], separators=(",", ":"))
        group_key = f"hub:holders:{schema_name}:{group}"
        self.keys = [HOLDERS, TOKENS, group_key, group_key + ":waiting", _flag(schema_name, key)]
        self.exclusive = exclusive
        self.until = 0.0

    def _flag_ms(self) -> int:
        return int(self.lease_seconds * 1000) if self.exclusive else 0

    def acquire(self) -> str:
        now = time.time()
        self.until = now + self.lease_seconds
        try:
            return _decode(
                redis_script(_ACQUIRE)(
                    keys=self.keys, args=[self.member, self.token, self.until, now, self.cap, self._flag_ms()]
                )
            )
        except Exception:  # noqa: BLE001 - Redis is down: work without a hold
            logger.warning("could not take the hold %s; working without it", self.member)
            return "ok"

    def renew_due(self) -> bool:
        """Whether a quarter of the lease has passed since the hold was last taken or renewed."""
        return time.time() > self.until - self.lease_seconds * 0.75

    def renew(self) -> bool:
        """Extends the hold by a lease from now; False if it was lost (recovered as dead)."""
        until = time.time() + self.lease_seconds
        try:
            held = redis_script(_RENEW)(keys=self.keys, args=[self.member, self.token, until, self._flag_ms()])
        except Exception:  # noqa: BLE001 - Redis is down: keep working, the database leases still hold
            held = True
        self.until = until
        return bool(held)

    def release(self) -> None:
        """Lets go, and sends the tasks at the head of the group's line (one per free place)."""
        try:
            woken = redis_script(_RELEASE)(
                keys=self.keys, args=[self.member, self.token, time.time(), self.cap, self._flag_ms()]
            )
        except Exception:  # noqa: BLE001 - the hold runs out by itself; the waiting are recovered
            logger.warning("could not release the hold %s", self.member)
            return
        for member in woken:
            _send_again(_decode(member))


def _decode(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _send_again(member: str) -> None:
    """Sends the task of a hold that ran out, or that waited for its place (its queued flag may
    still be set from the hold that ran out)."""
    schema_name, task_name, key, args, *_ = json.loads(member)
    task_started(schema_name=schema_name, key=key)
    task_enqueue_once(TaskRef(task_name), schema_name=schema_name, key=key, args=args)


def recover_held(*, limit: int = 1000) -> int:
    """Sends again the task of every hold that ran out (its worker died). Returns how many."""
    dead = redis_script(_RECOVER)(keys=[HOLDERS, TOKENS], args=[time.time(), limit])
    for member in dead:
        member = _decode(member)
        logger.warning("re-sending the work of a dead worker: %s", member)
        _send_again(member)
    return len(dead)
