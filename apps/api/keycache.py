"""API key look-up, answered from an in-process cache that Redis keeps honest.

A key's row (and the role of the member it acts for) is cached per process. Every change that
can affect a key (creating or revoking one, a membership or user change) drops this process's
cache at once and bumps a version number in Redis; every other process compares the versions of
a tenant with Redis at most once per HUB_API_KEY_RECHECK_SECONDS (¼ s) and reloads an entry
older than them. So a revoked key stops at once in the process that revoked it and within a
quarter of a second everywhere else, and a warm process authenticates a key without a database
query or a Redis round trip. While Redis is down, every key is checked against the database.
"""

import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.base import ModelState
from django_redis import get_redis_connection

from apps.identity.models import Membership, User

from .models import KEY_PREFIX, ApiKey

log = logging.getLogger(__name__)
GLOBAL_VERSION_KEY = "hub:api:keys-version"


def version_key(schema: str) -> str:
    return f"hub:api:keys-version:{schema}"


def redis():
    return get_redis_connection("default")


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def split_key(raw: str) -> str | None:
    """The stored prefix of a raw key `hub_<8 hex>_<secret>`, or None when it is not one."""
    if not raw.startswith(KEY_PREFIX) or len(raw) < 20 or len(raw) > 128:
        return None
    prefix, sep, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != 8 or not secret:
        return None
    return KEY_PREFIX + prefix


@dataclass
class KeyEntry:
    id: int
    name: str
    prefix: str
    key_hash: str
    scopes: tuple
    expires_at: datetime | None
    revoked_at: datetime | None
    membership: Membership | None  # the creator's membership in the key's tenant, if any
    versions: tuple

    def matches(self, raw: str) -> bool:
        return hmac.compare_digest(self.key_hash, hash_key(raw))


class KeyCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], KeyEntry | None] = {}
        self._versions: dict[str, tuple[float, tuple]] = {}  # schema -> (read at, versions)

    def clear(self):
        with self._lock:
            self._entries = {}
            self._versions = {}

    def get(self, tenant, prefix: str) -> KeyEntry | None:
        """The entry of `prefix` in the tenant's schema, reloaded when the versions moved."""
        return self.cached(tenant, prefix) or self.load(tenant, prefix, self._current_versions(tenant.schema_name))

    def cached(self, tenant, prefix: str) -> KeyEntry | None:
        """The entry of `prefix` as this process holds it, or None when it holds none or the
        versions moved since (no database query; Redis at most once per recheck interval)."""
        versions = self._current_versions(tenant.schema_name)
        entry = self._entries.get((tenant.schema_name, prefix))
        if entry is not None and versions is not None and entry.versions == versions:
            return entry
        return None

    def _current_versions(self, schema: str) -> tuple | None:
        """The schema's key versions in Redis, read at most once per recheck interval; None
        while Redis cannot answer (then nothing cached is trusted)."""
        now = time.monotonic()
        read_at, versions = self._versions.get(schema, (None, None))
        if read_at is None or now - read_at >= settings.HUB_API_KEY_RECHECK_SECONDS:
            versions = current_versions(schema)
            if versions is not None:
                with self._lock:
                    self._versions[schema] = (now, versions)
        return versions

    def load(self, tenant, prefix: str, versions: tuple | None) -> KeyEntry | None:
        role = Membership.objects.filter(user_id=OuterRef("created_by_id"), tenant_id=tenant.pk)
        row = (
            ApiKey.objects.filter(prefix=prefix)
            .annotate(membership_id=Subquery(role.values("pk")[:1]))
            .values("id", "name", "prefix", "key_hash", "scopes", "expires_at", "revoked_at", "membership_id")
            .first()
        )
        if row is None:
            return None  # unknown prefixes are not cached: they cost a query each, like any bad key
        membership = None
        if row["membership_id"]:
            membership = (
                Membership.objects.select_related("user", "tenant")
                .filter(pk=row["membership_id"], user__is_active=True)
                .first()
            )
            if membership is not None:
                membership.tenant = tenant
        entry = KeyEntry(
            id=row["id"],
            name=row["name"],
            prefix=row["prefix"],
            key_hash=row["key_hash"],
            scopes=tuple(row["scopes"] or ()),
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            membership=membership,
            versions=versions,
        )
        with self._lock:
            self._entries[(tenant.schema_name, prefix)] = entry
        return entry


cache = KeyCache()


def current_versions(schema: str) -> tuple | None:
    try:
        return tuple(redis().mget([GLOBAL_VERSION_KEY, version_key(schema)]))
    except Exception:
        log.warning("API key versions unavailable (Redis); checking keys in the database", exc_info=True)
        return None


def keys_changed(schema: str | None) -> None:
    """Every process reloads the keys of `schema` (all schemas when None) once this commits."""
    cache.clear()

    def bump():
        cache.clear()  # and whatever this process read again before the commit
        try:
            redis().incr(GLOBAL_VERSION_KEY if schema is None else version_key(schema))
        except Exception:  # Redis down: processes check keys against the database meanwhile
            log.warning("could not publish an API key change", exc_info=True)

    transaction.on_commit(bump)


def membership_copy(entry: KeyEntry) -> Membership | None:
    """A per-request copy, so a view changing its actor never touches the cache."""
    if entry.membership is None:
        return None
    membership = _shallow_copy(entry.membership)
    membership._state.fields_cache["user"] = _shallow_copy(entry.membership.user)
    return membership


def _shallow_copy(instance):
    """What copy.copy makes of a model instance (its fields and related-object cache), without
    the detour through pickling's __reduce_ex__ (a third of the cost)."""
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__dict__)
    clone._state = ModelState()
    clone._state.__dict__.update(instance._state.__dict__)
    clone._state.fields_cache = instance._state.fields_cache.copy()
    return clone


__all__ = ["KeyEntry", "User", "cache", "current_versions", "hash_key", "keys_changed", "split_key"]
