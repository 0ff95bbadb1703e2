"""Cache keys: each carries the schema of the tenant being served, so tenants never read each
other's entries — except keys that must count the same on every host (settings.
HUB_CACHE_PLATFORM_WIDE_KEYS, e.g. allauth's rate limits: a person's log-in and email limits are
one count across all tenants), which carry "platform" instead."""

from django.conf import settings
from django.db import connection

PLATFORM = "platform"  # never a schema name (tenant schemas are t_<slug>)


def make_key(key, key_prefix, version):
    scope = PLATFORM if key.startswith(settings.HUB_CACHE_PLATFORM_WIDE_KEYS) else connection.schema_name
    return f"{scope}:{key_prefix}:{version}:{key}"
