"""Persisted queries by hash (Apollo's automatic persisted queries): a client sends
`extensions.persistedQuery.sha256Hash` alone; if the hub does not know it, the answer is the error
PERSISTED_QUERY_NOT_FOUND and the client sends the hash with the query once, which the hub checks
and keeps (in the tenant's cache, for HUB_GRAPHQL_PERSISTED_DAYS). GET works too, so the answers
can be cached by HTTP caches along the way."""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _key(digest: str) -> str:
    return f"graphql:pq:{digest}"


def persisted_get(digest: str) -> str | None:
    try:
        return cache.get(_key(digest))
    except Exception:
        log.warning("persisted queries unavailable (cache)", exc_info=True)
        return None


def persisted_put(digest: str, query: str) -> None:
    try:
        cache.set(_key(digest), query, timeout=settings.HUB_GRAPHQL_PERSISTED_DAYS * 86400)
    except Exception:
        log.warning("persisted query not kept (cache)", exc_info=True)
