"""Per-tenant cached selectors, made stale by domain events.

    @cached_selector(topics=("notification",))
    def unread_count(*, user_id: int) -> int: ...

A decorated selector's result is kept in the Redis cache under a key made of the tenant's schema,
the selector's name, its arguments and the current version of each of its *topics* (a topic is a
kind of data: "member", "notification", "activity"). Nothing is ever deleted: a write makes the
old entries unreachable by bumping a topic's version, and they expire on their own (`timeout`).

What bumps a topic:
- every domain event: the topic named by its noun ("member.joined" bumps "member"), "activity"
  (every event is in the activity feed) and its type's extra `cache_topics` are bumped when the
  transaction that published it commits (apps.core.events.publish: what the event says changed is
  committed with it), and again when the outbox dispatcher has run its handlers, which may have
  derived more from it (apps.events registers `bump_for_events` for every type);
- a service whose write publishes no event calls `topics_bump_on_commit(*topics)`: the bump
  comes after the commit, and until then the writing transaction's own reads skip the cache
  (read-your-writes, and nothing uncommitted is cached for others).

Tenants never share an entry: the key carries the tenant's schema (its `tenant` argument's, else
the schema being served), the same whichever schema's context a bump is made in (these keys are
in HUB_CACHE_PLATFORM_WIDE_KEYS, so the cache's key function adds no other); arguments that are
model instances are keyed by their class and primary key. When Redis does not answer, the
selector runs uncached (counted as an `error`): the page is slower, never broken. Hits, misses
and errors are counted per selector (`hub_selector_cache_total`). HUB_SELECTOR_CACHE_ENABLED=false
turns the layer off.

A read is fresh from the moment the write's transaction commits (the bump follows the commit;
versions are read before the database, so a read racing a write caches its result under the
old version, which no later read uses); a cached value is never older than its `timeout`.
"""

import functools
import hashlib
import logging
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction

from . import metrics
from .registry import registry

logger = logging.getLogger(__name__)
MISSING = object()
VERSION_TIMEOUT = 60 * 60 * 24 * 30  # a topic's version outlives every entry keyed by it


def _version_key(schema: str, topic: str) -> str:
    return f"hub:cachever:{schema}:{topic}"


def _argument(value) -> str:
    if isinstance(value, models.Model):
        return f"{value._meta.label_lower}#{value.pk}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ",".join(sorted(_argument(v) for v in value)) + "]"
    return repr(value)


def _schema_of(kwargs: dict) -> str:
    """The tenant a read is about: its `tenant` argument's, else the schema being served."""
    tenant = kwargs.get("tenant")
    return getattr(tenant, "schema_name", None) or connection.schema_name


def _topic_versions(schema: str, topics: tuple[str, ...]) -> list[int]:
    keys = [_version_key(schema, t) for t in topics]
    found = cache.get_many(keys)
    missing = [k for k in keys if k not in found]
    if missing:
        # A version Redis lost (evicted, flushed) starts again from the clock, never from a number
        # an entry still in the cache was keyed by.
        start = time.time_ns()
        for key in missing:
            cache.add(key, start, timeout=VERSION_TIMEOUT)
        found.update(cache.get_many(missing))
    return [found[k] for k in keys]


def cached_selector(*, topics: Iterable[str], timeout: float = 300) -> Callable:
    """Caches a keyword-only selector's result per tenant until one of `topics` is bumped (or
    `timeout` seconds). The result must be picklable (plain values, lists, dataclasses, model
    instances; not a QuerySet)."""
    topics = tuple(sorted(set(topics)))

    def decorate(selector: Callable) -> Callable:
        name = f"{selector.__module__}.{selector.__qualname__}"
        hits = metrics.selector_cache.labels(selector=name, result="hit")
        misses = metrics.selector_cache.labels(selector=name, result="miss")
        errors = metrics.selector_cache.labels(selector=name, result="error")

        @functools.wraps(selector)
        def cached(**kwargs):
            if not settings.HUB_SELECTOR_CACHE_ENABLED:
                return selector(**kwargs)
            schema = _schema_of(kwargs)
            if _written_here(schema, topics):
                return selector(**kwargs)
            arguments = ",".join(f"{k}={_argument(v)}" for k, v in sorted(kwargs.items()))
            try:
                versions = _topic_versions(schema, topics)
                digest = hashlib.blake2b(f"{arguments}|{versions}".encode(), digest_size=12).hexdigest()
                key = f"hub:sel:{schema}:{name}:{digest}"
                value = cache.get(key, MISSING)
            except Exception as exc:  # noqa: BLE001 - Redis away: read the database instead
                errors.inc()
                logger.debug("selector cache unavailable for %s: %s", name, exc)
                return selector(**kwargs)
            if value is not MISSING:
                hits.inc()
                return value
            misses.inc()
            value = selector(**kwargs)
            try:
                cache.set(key, value, timeout=timeout)
            except Exception as exc:  # noqa: BLE001
                logger.debug("selector cache not written for %s: %s", name, exc)
            return value

        cached.uncached = selector
        cached.topics = topics
        return cached

    return decorate


def topics_bump(*, topics: Iterable[str], schema_name: str | None = None) -> None:
    """Makes the current tenant's cached reads of `topics` stale (now: call it after the commit of
    the write, e.g. through transaction.on_commit). A Redis outage is logged: the entries then
    run out by their timeout."""
    schema = schema_name or connection.schema_name
    for topic in set(topics):
        key = _version_key(schema, topic)
        try:
            try:
                cache.incr(key)
            except ValueError:  # no version yet: nothing cached under one either
                cache.add(key, time.time_ns(), timeout=VERSION_TIMEOUT)
        except Exception as exc:  # noqa: BLE001
            logger.warning("cached reads of %s in %s not made stale: %s", topic, schema, exc)


def topics_bump_on_commit(*topics: str, schema_name: str | None = None) -> None:
    """Bumps `topics` once the current transaction commits. Until then, this transaction's own
    reads of them skip the cache (neither read nor written: they see its uncommitted writes,
    which must not be cached for others, as the transaction may yet roll back)."""
    schema = schema_name or connection.schema_name
    if connection.in_atomic_block:
        _dirty_topics().update((schema, topic) for topic in topics)
    transaction.on_commit(lambda: topics_bump(topics=topics, schema_name=schema))


def _dirty_topics() -> set:
    """The (schema, topic) pairs written by the current transaction (its outermost atomic block's)."""
    outermost = connection.atomic_blocks[0]
    held = getattr(connection, "_hub_dirty_topics", None)
    if held is None or held[0] is not outermost:
        held = connection._hub_dirty_topics = (outermost, set())
    return held[1]


def _written_here(schema: str, topics: tuple[str, ...]) -> bool:
    held = getattr(connection, "_hub_dirty_topics", None)
    if held is None or not connection.atomic_blocks or held[0] is not connection.atomic_blocks[0]:
        return False
    return any((schema, topic) in held[1] for topic in topics)


def event_topics(event_type: str) -> set[str]:
    """The topics an event makes stale: its noun's, the activity feed's and its type's extras."""
    declared = registry["event_types"].get(event_type)
    return {event_type.split(".", 1)[0], "activity", *(getattr(declared, "cache_topics", ()) or ())}


def bump_for_events(events) -> None:
    """Event handler (every type, batched): after the dispatch commits, bumps the topics the
    batch's events touch, once each."""
    topics = set().union(*(event_topics(e.type) for e in events))
    topics_bump_on_commit(*sorted(topics))
