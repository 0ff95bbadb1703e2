"""Project keys: their format, and finding one from a request without a query each time.

A key is `phc_<8 hex>_<secret>`; the row is found by its prefix (`phc_<8 hex>`) in the schema of
the tenant whose host was called, so another tenant's key is simply not found. Each process keeps
what it found for KEY_CACHE_SECONDS, and drops it at once when this process changes a key: a
revoked key stops within that second everywhere.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

from .models import KEY_PREFIX, ProjectKey

KEY_CACHE_SECONDS = 1.0


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def split_key(raw: str) -> str | None:
    """The stored prefix of a raw key, or None when it is not one."""
    if not isinstance(raw, str) or not raw.startswith(KEY_PREFIX) or len(raw) > 128:
        return None
    prefix, sep, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != 8 or not secret:
        return None
    return KEY_PREFIX + prefix


@dataclass(frozen=True)
class KeyEntry:
    id: int
    key_hash: str
    active: bool
    allowed_origins: tuple

    def matches(self, raw: str) -> bool:
        return hmac.compare_digest(self.key_hash, hash_key(raw))

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins


_entries: dict = {}  # (schema, prefix) -> (read at, KeyEntry | None)
_origins: dict = {}  # schema -> (read at, frozenset of origins of the active keys)


def forget() -> None:
    _entries.clear()
    _origins.clear()
    _page_view_keys.clear()


def key_find(schema: str, raw: str, *, cached_only: bool = False) -> KeyEntry | None:
    """The active key `raw` of the current schema, or None (with `cached_only`, also when this
    process has not read it within KEY_CACHE_SECONDS: no database query then)."""
    prefix = split_key(raw)
    if prefix is None:
        return None
    now = time.monotonic()
    read_at, entry = _entries.get((schema, prefix), (None, None))
    if read_at is None or now - read_at > KEY_CACHE_SECONDS:
        if cached_only:
            return None
        row = ProjectKey.objects.filter(prefix=prefix).values("id", "key_hash", "revoked_at", "allowed_origins").first()
        entry = None
        if row is not None:
            entry = KeyEntry(row["id"], row["key_hash"], row["revoked_at"] is None, tuple(row["allowed_origins"]))
        _entries[(schema, prefix)] = (now, entry)
    if entry is None or not entry.active or not entry.matches(raw):
        return None
    return entry


def origin_allowed(schema: str, origin: str) -> bool:
    """Whether any active key of the current schema lets a browser send from `origin` (what a
    CORS preflight, which carries no key, can be told)."""
    now = time.monotonic()
    read_at, origins = _origins.get(schema, (None, frozenset()))
    if read_at is None or now - read_at > KEY_CACHE_SECONDS:
        lists = ProjectKey.objects.filter(revoked_at__isnull=True).values_list("allowed_origins", flat=True)
        origins = frozenset(o for allowed in lists for o in allowed)
        _origins[schema] = (now, origins)
    return "*" in origins or origin.rstrip("/") in origins


# --- The built-in key of the dashboards' page views ----------------------------------------------

PAGE_VIEW_KEY_SECONDS = 30.0
_page_view_keys: dict = {}  # (schema, tenant id, origin) -> (read at, raw key | None)


def page_view_key(schema: str, origin: str, *, load, tenant_id=None) -> str | None:
    """The built-in key for the current schema's pages at `origin` (None: page views are off),
    from `load(origin=)` (services.page_view_key_ensure), kept PAGE_VIEW_KEY_SECONDS in this
    process; switching page views off drops it here at once, elsewhere within that time (and the
    key itself is revoked, so nothing more is taken)."""
    now = time.monotonic()
    # (The tenant's id too: a tenant deleted and made again under its schema name has other keys.)
    read_at, raw = _page_view_keys.get((schema, tenant_id, origin), (None, None))
    if read_at is None or now - read_at > PAGE_VIEW_KEY_SECONDS:
        raw = load(origin=origin)
        _page_view_keys[(schema, tenant_id, origin)] = (time.monotonic(), raw)
    return raw
