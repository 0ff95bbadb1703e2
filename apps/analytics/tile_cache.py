"""A dashboard's drawn tiles (chart and table HTML), cached per organisation in Redis so a warm
dashboard page reads every tile in one round trip and renders none of them.

A key holds the schema, the organisation's event version (queries/run.py: the writer bumps it
after each commit of new events), the insight (and when it last changed), the dashboard's
overrides and the time zone: a tile is never served once new events are stored or its insight
or dates changed. Without Redis tiles are drawn every time."""

import hashlib
import logging

import orjson
from django.db import connection
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from . import conf
from .queries.run import version_key

logger = logging.getLogger(__name__)


def keys(*, tenant, tiles, overrides) -> list[str]:
    """The cache key of each tile's body ([] entries as "" when Redis is unreachable)."""
    schema = connection.schema_name
    try:
        version = int(get_redis_connection("default").get(version_key(schema)) or 0)
    except RedisError:
        logger.warning("analytics: the tile cache is unreachable", exc_info=True)
        return ["" for _ in tiles]
    shared = [overrides.date_from, overrides.date_to, overrides.filters, tenant.time_zone or "UTC"]
    out = []
    for tile in tiles:
        digest = hashlib.sha256(
            orjson.dumps([tile.insight_id, tile.insight.updated.isoformat(), *shared], option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
        out.append(f"hub:analytics:tile:{schema}:{version}:{digest}")
    return out


def get_many(names: list[str]) -> dict[str, str]:
    wanted = [n for n in names if n]
    if not wanted:
        return {}
    try:
        values = get_redis_connection("default").mget(wanted)
    except RedisError:
        logger.warning("analytics: the tile cache is unreachable", exc_info=True)
        return {}
    return {name: value.decode() for name, value in zip(wanted, values, strict=True) if value is not None}


def set_many(entries: dict[str, str]) -> None:
    entries = {name: html for name, html in entries.items() if name}
    if not entries:
        return
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        for name, html in entries.items():
            pipe.set(name, html, ex=conf.get("HUB_ANALYTICS_QUERY_CACHE_SECONDS"))
        pipe.execute()
    except RedisError:
        logger.warning("analytics: the tile cache is unreachable", exc_info=True)
