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
from .shapes import FunnelQuery, LifecycleQuery, PathsQuery, Query, RetentionQuery, StickinessQuery

logger = logging.getLogger(__name__)


def version_key(schema: str) -> str:
    return f"hub:analytics:version:{schema}"


def version_bump(schema: str) -> None:
    try:
        get_redis_connection("default").incr(version_key(schema))
    except RedisError:
        logger.warning("analytics: the query cache version could not be bumped", exc_info=True)


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
    """{"kind", "source": "raw", "cached", "result"} for `query` (parsed from `data`), answered
    by `store`, the tenant's event store (stores.store_current())."""
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
    answer = {"kind": query.kind, "source": "raw", "result": _compute(query, ZoneInfo(time_zone), store)}
    if client is not None:
        try:
            client.set(key, orjson.dumps(answer), ex=conf.get("HUB_ANALYTICS_QUERY_CACHE_SECONDS"))
        except RedisError:
            logger.warning("analytics: the query cache is unreachable", exc_info=True)
    return {**answer, "cached": False}
