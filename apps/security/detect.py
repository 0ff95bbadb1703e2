"""Detection state in Redis: sliding windows and what has been seen, one atomic script per event
so a log-in costs one round trip. Each function returns the Findings of the rules the event trips
(services.incident_raise turns them into incidents, at most once per rule, subject and window).

Keys are prefixed with the tenant's schema (`sec:<schema>:…`): tenants never share state. They
live in the shared cache's Redis (as identity's lock-outs), each with a time-to-live: windows for
as long as their window, what was seen for a person or a key for HUB_THREAT_HISTORY_DAYS. A
forgotten history only means the next log-in sets a new baseline (no incident), never a false one.
"""

import hashlib
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django_redis import get_redis_connection

from . import geo

log = logging.getLogger(__name__)
BUCKET_SECONDS = 10  # attempts are counted in 10-second buckets (the credential-stuffing share)

# KEYS: from-this-address accounts, failing accounts, failing addresses (sorted sets, scored by
# time). ARGV: now, account, address, brute-force window, stuffing window, bucket prefix, bucket
# size, accounts needed before the share is worth counting.
# Returns {accounts from the address, failing accounts, failing addresses, failures, successes}.
FAILED = """
local now = tonumber(ARGV[1])
local bf, cs = tonumber(ARGV[4]), tonumber(ARGV[5])
local function window(key, member, span)
  redis.call('ZADD', key, now, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  redis.call('EXPIRE', key, span)
  return redis.call('ZCARD', key)
end
local from_ip = window(KEYS[1], ARGV[2], bf)
local accounts = window(KEYS[2], ARGV[2], cs)
local ips = window(KEYS[3], ARGV[3], cs)
local size = tonumber(ARGV[7])
local b = math.floor(now / size)
redis.call('HINCRBY', ARGV[6] .. b, 'f', 1)
redis.call('EXPIRE', ARGV[6] .. b, cs + size)
local f, o = 0, 0
if accounts >= tonumber(ARGV[8]) then
  for i = b - math.floor(cs / size) + 1, b do
    local v = redis.call('HMGET', ARGV[6] .. i, 'f', 'o')
    f = f + tonumber(v[1] or 0)
    o = o + tonumber(v[2] or 0)
  end
end
return {from_ip, accounts, ips, f, o}
"""

# KEYS: the person's countries, devices (sets), last place (hash). ARGV: now, country, device,
# latitude, longitude, address, history ttl, bucket prefix, bucket size, stuffing window.
# Returns {new country (1/0), new device (1/0), last latitude, longitude, time, address}.
SUCCEEDED = """
local ttl = tonumber(ARGV[7])
local function first_seen(key, value)
  if value == '' then return 0 end
  local known = redis.call('SCARD', key)
  local added = redis.call('SADD', key, value)
  redis.call('EXPIRE', key, ttl)
  if added == 1 and known > 0 then return 1 end
  return 0
end
local new_country = first_seen(KEYS[1], ARGV[2])
local new_device = first_seen(KEYS[2], ARGV[3])
local prev = {'', '', '', ''}
if ARGV[4] ~= '' then
  local v = redis.call('HMGET', KEYS[3], 'lat', 'lon', 't', 'ip')
  prev = {v[1] or '', v[2] or '', v[3] or '', v[4] or ''}
  redis.call('HSET', KEYS[3], 'lat', ARGV[4], 'lon', ARGV[5], 't', ARGV[1], 'ip', ARGV[6])
  redis.call('EXPIRE', KEYS[3], ttl)
end
local size = tonumber(ARGV[9])
local bucket = ARGV[8] .. math.floor(tonumber(ARGV[1]) / size)
redis.call('HINCRBY', bucket, 'o', 1)
redis.call('EXPIRE', bucket, tonumber(ARGV[10]) + size)
return {new_country, new_device, prev[1], prev[2], prev[3], prev[4]}
"""

# KEYS: the key's networks (a set). ARGV: network, ttl. Returns 1 when the network is new and the
# key had been used before (its first network is its baseline).
NETWORK = """
local known = redis.call('SCARD', KEYS[1])
local added = redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
if added == 1 and known > 0 then return 1 end
return 0
"""

# KEYS: one person's actions of a kind (a sorted set). ARGV: now, a unique member, window.
# Returns how many in the window.
COUNT = """
local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return redis.call('ZCARD', KEYS[1])
"""

# KEYS: the once-per-window mark. ARGV: window. 1 when this call set it (the first finding).
ONCE = "return redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) and 1 or 0"


@dataclass
class Finding:
    """What a rule found: enough to raise (and word) an incident."""

    rule: str
    subject: str  # what it is about, for the once-per-window key: "user:7", "ip:203.0.113.9", "key:3"
    summary: str
    occurred_at: float  # epoch seconds of the triggering event
    user_id: int | None = None
    email: str = ""
    ip: str | None = None
    api_key_id: int | None = None
    details: dict = field(default_factory=dict)


def redis():
    return get_redis_connection(settings.SESSION_CACHE_ALIAS)


_scripts: dict[str, object] = {}


def _run(script: str, keys: list[str], args: list):
    found = _scripts.get(script)
    if found is None:
        found = _scripts[script] = redis().register_script(script)
    return found(keys=keys, args=args, client=redis())


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def _k(schema: str, *parts) -> str:
    return ":".join(["sec", schema, *map(str, parts)])


def first_in_window(*, schema: str, rule: str, subject: str, window: int) -> bool:
    """True once per rule, subject and window (the deduplication of incidents)."""
    return bool(_run(ONCE, [_k(schema, "once", rule, _digest(subject))], [max(1, int(window))]))


# --- Log-ins ---------------------------------------------------------------------------------------


def login_failed(*, schema: str, email: str, ip: str | None, now: float | None = None) -> list[Finding]:
    now = time.time() if now is None else now
    account, address = _digest((email or "").strip().lower()), ip or "unknown"
    s = settings
    from_ip, accounts, ips, failures, successes = (
        int(x)
        for x in _run(
            FAILED,
            [_k(schema, "bf", _digest(address)), _k(schema, "cs", "accounts"), _k(schema, "cs", "ips")],
            [
                now, account, address, s.HUB_THREAT_BRUTE_FORCE_WINDOW, s.HUB_THREAT_STUFFING_WINDOW,
                _k(schema, "attempts", ""), BUCKET_SECONDS, s.HUB_THREAT_STUFFING_ACCOUNTS,
            ],
        )
    )  # fmt: skip
    found = []
    if ip and from_ip >= s.HUB_THREAT_BRUTE_FORCE_ACCOUNTS:
        minutes = max(1, s.HUB_THREAT_BRUTE_FORCE_WINDOW // 60)
        found.append(
            Finding(
                "brute_force", f"ip:{ip}",
                f"Failed log-ins for {from_ip} different accounts from {ip} within {minutes} minutes",
                now, ip=ip, email=email, details={"accounts": from_ip, "window_minutes": minutes, "last_email": email},
            )
        )  # fmt: skip
    share = failures / (failures + successes) if failures + successes else 0.0
    if accounts >= s.HUB_THREAT_STUFFING_ACCOUNTS and ips >= s.HUB_THREAT_STUFFING_ADDRESSES:
        if share >= s.HUB_THREAT_STUFFING_RATIO or accounts >= s.HUB_THREAT_STUFFING_ACCOUNTS_ALONE:
            minutes = max(1, s.HUB_THREAT_STUFFING_WINDOW // 60)
            found.append(
                Finding(
                    "credential_stuffing", "organisation",
                    f"{accounts} different accounts failed to log in from {ips} addresses within {minutes} minutes "
                    f"({share:.0%} of log-ins failed)",
                    now, ip=ip,
                    details={
                        "accounts": accounts, "addresses": ips, "failures": failures, "successes": successes,
                        "failure_share": round(share, 3), "window_minutes": minutes,
                    },
                )
            )  # fmt: skip
    return found


def login_succeeded(
    *, schema: str, user_id: int, email: str, ip: str | None, device: str, now: float | None = None
) -> list[Finding]:
    now = time.time() if now is None else now
    where = geo.place(ip)
    has_point = where is not None and where.latitude is not None and where.longitude is not None
    new_country, new_device, lat, lon, then, then_ip = _run(
        SUCCEEDED,
        [_k(schema, "countries", user_id), _k(schema, "devices", user_id), _k(schema, "last", user_id)],
        [
            now, where.country if where else "", device, where.latitude if has_point else "",
            where.longitude if has_point else "", ip or "", settings.HUB_THREAT_HISTORY_DAYS * 86400,
            _k(schema, "attempts", ""), BUCKET_SECONDS, settings.HUB_THREAT_STUFFING_WINDOW,
        ],
    )  # fmt: skip
    person = {"user_id": user_id, "email": email, "ip": ip}
    found = []
    if int(new_country):
        found.append(
            Finding(
                "new_country", f"user:{user_id}:{where.country}",
                f"{email} logged in from {where.words}, a country they had not logged in from before",
                now, **person, details={"country": where.country, "place": where.words},
            )
        )  # fmt: skip
    if int(new_device) and device:
        found.append(
            Finding(
                "new_device", f"user:{user_id}:{device}", f"{email} logged in from a new device: {device}",
                now, **person, details={"device": device},
            )
        )  # fmt: skip
    if has_point and lat:
        lat, lon, then = float(_text(lat)), float(_text(lon)), float(_text(then))
        km = geo.distance_km(lat, lon, where.latitude, where.longitude)
        hours = max(now - then, 1.0) / 3600
        speed = km / hours
        if km >= settings.HUB_THREAT_TRAVEL_MIN_KM and speed > settings.HUB_THREAT_TRAVEL_KMH:
            previous = geo.place(_text(then_ip))
            was = previous.words if previous else "another place"
            minutes = max(1, round(hours * 60))
            found.append(
                Finding(
                    "impossible_travel", f"user:{user_id}",
                    f"{email} logged in from {where.words} {minutes} minutes after a log-in from {was} "
                    f"({km:,.0f} km away: {speed:,.0f} km/h)",
                    now, **person,
                    details={
                        "from": was, "to": where.words, "km": round(km), "minutes": minutes,
                        "kmh": round(speed), "previous_ip": _text(then_ip),
                    },
                )
            )  # fmt: skip
    return found


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --- API keys --------------------------------------------------------------------------------------

# Networks this process already saw for a key: (schema, key id, network) -> when. A key used again
# from a network seen here costs nothing; a network new to this process asks Redis once.
_seen_networks: dict[tuple, float] = {}
_seen_lock = threading.Lock()
SEEN_FOR_SECONDS = 600
SEEN_MAX = 50_000


def api_key_used(*, schema: str, key_id: int, key_name: str, ip: str | None, now: float | None = None) -> list[Finding]:
    if not ip:
        return []
    now = time.time() if now is None else now
    try:
        network = geo.network_of(ip)
    except ValueError:
        return []
    mark = (schema, key_id, network)
    seen = _seen_networks.get(mark)
    if seen is not None and now - seen < SEEN_FOR_SECONDS:
        return []
    new = int(_run(NETWORK, [_k(schema, "nets", key_id)], [network, settings.HUB_THREAT_HISTORY_DAYS * 86400]))
    with _seen_lock:
        if len(_seen_networks) >= SEEN_MAX:
            _seen_networks.clear()
        _seen_networks[mark] = now
    if not new:
        return []
    return [
        Finding(
            "api_key_new_network", f"key:{key_id}:{network}",
            f"The API key “{key_name}” was used from {network}, a network it had never been used from",
            now, ip=ip, api_key_id=key_id, details={"network": network, "key_name": key_name},
        )
    ]  # fmt: skip


def forget_networks() -> None:
    """Forgets what this process saw (tests)."""
    with _seen_lock:
        _seen_networks.clear()


# --- Mass actions ----------------------------------------------------------------------------------

_unique = itertools.count()
MASS = {"deletion": ("mass_deletion", "deleted or trashed"), "download": ("mass_download", "downloaded")}


def acted(*, schema: str, kind: str, user_id: int, email: str, now: float | None = None) -> list[Finding]:
    """One person deleted (kind "deletion") or downloaded ("download") one thing."""
    now = time.time() if now is None else now
    window = settings.HUB_THREAT_MASS_WINDOW
    member = f"{now}:{next(_unique)}:{threading.get_ident()}"
    count = int(_run(COUNT, [_k(schema, kind, user_id)], [now, member, window]))
    if count < settings.HUB_THREAT_MASS_COUNT:
        return []
    rule, verb = MASS[kind]
    minutes = max(1, window // 60)
    return [
        Finding(
            rule, f"user:{user_id}", f"{email} {verb} {count} items within {minutes} minutes", now,
            user_id=user_id, email=email, details={"count": count, "window_minutes": minutes},
        )
    ]  # fmt: skip
