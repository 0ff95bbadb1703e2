"""The Redis cache backend (django-redis), counting and timing its calls for /metrics."""

import time

from django_redis.cache import CONNECTION_INTERRUPTED, RedisCache

from apps.core import metrics

MISSING = object()


def _timed(operation, method_name=None):
    def method(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            value = getattr(super(InstrumentedRedisCache, self), method_name or operation)(*args, **kwargs)
        except Exception:
            metrics.labelled(metrics.cache_operations, operation, "error").inc()
            raise
        metrics.labelled(metrics.cache_operation_duration, operation).observe(time.perf_counter() - started)
        if operation != "get":
            metrics.labelled(metrics.cache_operations, operation, "ok").inc()
        return value

    method.__name__ = method_name or operation
    return method


class InstrumentedRedisCache(RedisCache):
    set = _timed("set")
    add = _timed("add")
    delete = _timed("delete")
    incr = _timed("incr")
    get_many = _timed("get_many")
    set_many = _timed("set_many")
    _get = _timed("get", "_get")

    def get(self, key, default=None, version=None, client=None):
        value = self._get(key, MISSING, version=version, client=client)
        missed = value is MISSING or value is CONNECTION_INTERRUPTED
        metrics.labelled(metrics.cache_operations, "get", "miss" if missed else "hit").inc()
        return default if missed else value
