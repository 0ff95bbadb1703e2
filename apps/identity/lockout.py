"""Brute-force protection: failed password log-ins lock the account, and the IP address, for a
growing time, counted across every tenant host and every process.

Two counters live in Redis (the shared cache's server, keys without a tenant prefix):
- per account (the email typed, known or not, so a lock tells an attacker nothing): after
  HUB_LOGIN_LOCK_THRESHOLD failed attempts from anywhere, the account's password log-in is locked
  for HUB_LOGIN_LOCK_BASE_SECONDS, doubling with every further failure up to
  HUB_LOGIN_LOCK_MAX_SECONDS. Kept for a day after the last failure; a successful log-in or a
  password reset clears it. (Log-in by emailed code, passkey or SSO does not check a password and
  is not locked: an attacker who keeps the password log-in locked does not lock the owner out.)
- per IP address: after HUB_LOGIN_IP_LOCK_THRESHOLD failed attempts within an hour, for any
  accounts, the address is locked the same way; the count starts again an hour after its first
  failure. A successful log-in does not clear it (or an attacker would log in to an account of
  their own between guesses).

An attempt is counted before its password is checked, in one atomic step (a Lua script): the
attempt that reaches a threshold sets the lock before its password is checked, and a success lifts
it again. So a burst of parallel requests gets no more password checks than the threshold.
"""

import hashlib
import time
from dataclasses import dataclass, field

from django.conf import settings
from django_redis import get_redis_connection

ACCOUNT_TTL = 24 * 3600
IP_TTL = 3600

# KEYS: the counters (a hash each: n = attempts, until = end of the lock). ARGV: now, base, max,
# then per key its threshold, its time-to-live and whether that restarts with every attempt (1) or
# runs from the first (0). Returns {0, seconds of the lock the attempt started, per key} when the
# attempt may go ahead, or {i, seconds left} when key i is locked (nothing is counted then).
BEGIN = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local locked_until = tonumber(redis.call('HGET', key, 'until') or '0')
  if locked_until > now then
    return {i, math.ceil(locked_until - now)}
  end
end
local base, max = tonumber(ARGV[2]), tonumber(ARGV[3])
local started = {0}
for i, key in ipairs(KEYS) do
  local threshold, ttl, sliding = tonumber(ARGV[1 + 3 * i]), tonumber(ARGV[2 + 3 * i]), ARGV[3 + 3 * i]
  local n = redis.call('HINCRBY', key, 'n', 1)
  local seconds = 0
  if n >= threshold then
    seconds = math.min(base * 2 ^ (n - threshold), max)
    redis.call('HSET', key, 'until', tostring(now + seconds))
  end
  if n == 1 or sliding == '1' then
    redis.call('EXPIRE', key, math.max(ttl, math.ceil(seconds)))
  elseif redis.call('TTL', key) < seconds then
    redis.call('EXPIRE', key, math.ceil(seconds))
  end
  started[i + 1] = seconds
end
return started
"""

# KEYS: the account's counter, the address's (if any). ARGV[1]: "1" if the attempt started the
# address's lock.
SUCCEEDED = """
redis.call('DEL', KEYS[1])
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'n', -1)
  if ARGV[1] == '1' then
    redis.call('HDEL', KEYS[2], 'until')
  end
end
return 1
"""


@dataclass
class Attempt:
    """A password log-in attempt that was let through to the password check."""

    keys: list[str]
    started: list[int] = field(default_factory=list)  # seconds of the lock it started, per key

    @property
    def lock_seconds(self) -> int:
        """The longest lock this attempt starts if it fails (0 if none)."""
        return max(self.started, default=0)


class Locked(Exception):
    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


def _redis():
    return get_redis_connection(settings.SESSION_CACHE_ALIAS)


def _run(script: str, keys: list[str], args: list):
    # register_script only hashes the text; the call runs EVALSHA (loading the script when needed).
    return _redis().register_script(script)(keys=keys, args=args)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def account_key(email: str) -> str:
    return f"identity:lock:account:{_digest((email or '').strip().lower())}"


def ip_key(ip: str) -> str:
    return f"identity:lock:ip:{_digest(ip)}"


def lock_seconds_for(failures: int) -> int:
    """The length of the account lock after `failures` failed attempts."""
    threshold = settings.HUB_LOGIN_LOCK_THRESHOLD
    if failures < threshold:
        return 0
    return min(settings.HUB_LOGIN_LOCK_BASE_SECONDS * 2 ** (failures - threshold), settings.HUB_LOGIN_LOCK_MAX_SECONDS)


def attempt_begin(*, email: str, ip: str | None) -> Attempt:
    """Counts a password attempt before its check. Raises Locked (with the seconds left) when the
    account or the address is locked; the refused attempt is not counted."""
    keys = [account_key(email)]
    args = [time.time(), settings.HUB_LOGIN_LOCK_BASE_SECONDS, settings.HUB_LOGIN_LOCK_MAX_SECONDS]
    args += [settings.HUB_LOGIN_LOCK_THRESHOLD, ACCOUNT_TTL, 1]
    if ip:
        keys.append(ip_key(ip))
        args += [settings.HUB_LOGIN_IP_LOCK_THRESHOLD, IP_TTL, 0]
    result = [int(x) for x in _run(BEGIN, keys, args)]
    if result[0]:
        raise Locked(result[1])
    return Attempt(keys=keys, started=result[1:])


def attempt_succeeded(attempt: Attempt) -> None:
    """The password was right: the account's count and lock go; the address's count takes the
    attempt back (and the lock the attempt itself started, if any)."""
    started_ip_lock = len(attempt.started) > 1 and attempt.started[1] > 0
    _run(SUCCEEDED, attempt.keys, ["1" if started_ip_lock else "0"])


def account_unlock(*, email: str) -> None:
    """Clears the account's count and lock (its owner proved the mailbox: a password reset)."""
    _redis().delete(account_key(email))


def lock_remaining(*, email: str = "", ip: str | None = None) -> int:
    """Seconds the account (or the address) stays locked (0 when not locked)."""
    key = account_key(email) if email else ip_key(ip or "")
    locked_until = float(_redis().hget(key, "until") or 0)
    return max(0, int(locked_until - time.time() + 0.999))
