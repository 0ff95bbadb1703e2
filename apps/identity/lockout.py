"""Brute-force protection: failed log-ins lock the (account, IP address) pair for a growing time.

After HUB_LOGIN_LOCK_THRESHOLD failures in a row from one address for one email (known or not,
so the lock tells an attacker nothing), the pair is locked for HUB_LOGIN_LOCK_BASE_SECONDS,
doubling with every further failure up to HUB_LOGIN_LOCK_MAX_SECONDS. The failure count is kept
for a day; a successful log-in clears it. State lives in Redis (the shared, unprefixed cache),
so every process and every tenant host sees the same lock.
"""

import hashlib
import time

from django.conf import settings

from .mfa import shared_cache

COUNT_TTL = 24 * 3600


def _key(email: str, ip: str | None) -> str:
    digest = hashlib.sha256(f"{(email or '').strip().lower()}|{ip or '-'}".encode()).hexdigest()[:32]
    return f"identity:lock:{digest}"


def lock_remaining(*, email: str, ip: str | None) -> int:
    """Seconds the pair stays locked (0 when not locked)."""
    state = shared_cache().get(_key(email, ip))
    if not state:
        return 0
    return max(0, int(state.get("until", 0) - time.time()))


def lock_seconds_for(failures: int) -> int:
    threshold = settings.HUB_LOGIN_LOCK_THRESHOLD
    if failures < threshold:
        return 0
    return min(settings.HUB_LOGIN_LOCK_BASE_SECONDS * 2 ** (failures - threshold), settings.HUB_LOGIN_LOCK_MAX_SECONDS)


def failure_record(*, email: str, ip: str | None) -> int:
    """Counts a failure; returns the seconds of the lock it starts (0 if none)."""
    cache = shared_cache()
    key = _key(email, ip)
    state = cache.get(key) or {"failures": 0, "until": 0}
    state["failures"] += 1
    seconds = lock_seconds_for(state["failures"])
    if seconds:
        state["until"] = time.time() + seconds
    cache.set(key, state, timeout=COUNT_TTL)
    return seconds


def failures_clear(*, email: str, ip: str | None) -> None:
    shared_cache().delete(_key(email, ip))
