"""Running a query: the kind's selector, in the tenant's time zone, with the answer cached.

The cache is per tenant, in Redis: the key holds the tenant's schema, its event version and a
hash of the query. The writer bumps the version (`version_bump`) after each commit of new events,
so a cached answer is never served once the tenant has new events; old keys simply expire.
Without Redis the query runs uncached.
"""

import hashlib
import logging
from zoneinfo import ZoneInfo

import orjson
from django.db import connection
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from .. import conf
from . import rollups
from .shapes import FunnelQuery, LifecycleQuery, PathsQuery, Query, RetentionQuery, StickinessQuery

logger = logging.getLogger(__name__)


def version_key(schema: str) -> str:
    return f"hub:analytics:version:{schema}"


def version_bump(schema: str) -> None:
    try:
        get_redis_connection("default").incr(version_key(schema))
    except RedisError:
        logger.warning("analytics: the query cache version could not be bumped", exc_info=True)


def answer(query: Query, tz: ZoneInfo, store) -> dict:
    """{"kind", "source", "result"}: from the rollups when `store` keeps them (PostgreSQL's,
    beside its events) and they serve the query (source "rollup"), else from `store`'s events
    (source "raw"). No cache here (query_run's)."""
    if store.has_rollups:
        result = rollups.answer(query, tz)
        if result is not None:
            return {"kind": query.kind, "source": "rollup", "result": result}
    return raw_answer(query, tz, store)


def raw_answer(query: Query, tz: ZoneInfo, store) -> dict:
    """The query on raw events, even where rollups serve it (to compare, and for benchmarks)."""
    return {"kind": query.kind, "source": "raw", "result": _compute(query, tz, store)}


def _compute(query: Query, tz: ZoneInfo, store) -> dict:
    """The query's answer from the tenant's event store (stores/base.py)."""
    if isinstance(query, FunnelQuery):
        return store.funnel(query, tz=tz)
    if isinstance(query, RetentionQuery):
        return store.retention(query, tz=tz)
    if isinstance(query, StickinessQuery):
        return store.stickiness(query, tz=tz)
    if isinstance(query, LifecycleQuery):
        return store.lifecycle(query, tz=tz)
    if isinstance(query, PathsQuery):
        return store.paths(query, tz=tz)
    return store.trends(query, tz=tz)


def query_run(*, query: Query, data: dict, time_zone: str, store) -> dict:
    """{"kind", "source": "rollup" or "raw", "cached", "result"} for `query` (parsed from `data`),
    answered by `store`, the tenant's event store (stores.store_current()), or its rollups."""
    schema = connection.schema_name
    digest = hashlib.sha256(orjson.dumps([data, time_zone], option=orjson.OPT_SORT_KEYS)).hexdigest()
    client = key = None
    try:
        client = get_redis_connection("default")
        version = int(client.get(version_key(schema)) or 0)
        key = f"hub:analytics:query:{schema}:{version}:{digest}"
        cached = client.get(key)
        if cached is not None:
            return {**orjson.loads(cached), "cached": True}
    except RedisError:
        logger.warning("analytics: the query cache is unreachable", exc_info=True)
        client = None
    store.ensure()
    computed = answer(query, ZoneInfo(time_zone), store)
    if client is not None:
        try:
            client.set(key, orjson.dumps(computed), ex=conf.get("HUB_ANALYTICS_QUERY_CACHE_SECONDS"))
        except RedisError:
            logger.warning("analytics: the query cache is unreachable", exc_info=True)
    return {**computed, "cached": False}
