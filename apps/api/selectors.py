"""Reads on API keys and their usage (current tenant schema)."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse

from apps.core.caching import cached_selector
from apps.core.registry import SearchResult

from .keycache import redis
from .metering import last_used_key, meter, usage_key
from .models import ApiKey, ApiKeyUsage


def api_key_list(*, include_revoked: bool = True) -> QuerySet[ApiKey]:
    keys = ApiKey.objects.all()
    return keys if include_revoked else keys.filter(revoked_at__isnull=True)


@cached_selector(topics=("api_key",))
def api_key_exists(*, tenant=None, user=None) -> bool:
    """Whether the organisation (the schema being served) has ever created an API key."""
    return ApiKey.objects.exists()


STATUS_WORDS = {"active": "Active", "expired": "Expired", "revoked": "Revoked"}


def api_key_search(*, query: str, tenant, user, limit: int) -> list[SearchResult]:
    """The command palette's API keys (search provider): by name or prefix."""
    found = ApiKey.objects.filter(Q(name__icontains=query) | Q(prefix__icontains=query))[:limit]
    page = reverse("api_keys")
    return [
        SearchResult(k.name, f"{page}?{urlencode({'q': k.name})}", f"{k.prefix}… · {STATUS_WORDS[k.status]}")
        for k in found
    ]


def _pending_usage(schema: str, days: list[date]) -> dict[tuple[int, date], int]:
    meter.flush()  # this process's own calls first
    pipe = redis().pipeline(transaction=False)
    for day in days:
        pipe.hgetall(usage_key(schema, day.isoformat()))
    pending = {}
    for day, counts in zip(days, pipe.execute(), strict=True):
        for key_id, n in counts.items():
            if int(n):
                pending[(int(key_id), day)] = int(n)
    return pending


def api_usage_list(*, since: date, until: date | None = None, key_id: int | None = None) -> list[dict]:
    """Calls per key per day (UTC) from `since` to `until` (today) inclusive, newest first:
    what was flushed to the database plus what Redis still counts."""
    until = until or datetime.now(UTC).date()
    if since > until:
        return []
    rows = ApiKeyUsage.objects.filter(day__gte=since, day__lte=until)
    if key_id is not None:
        rows = rows.filter(key_id=key_id)
    totals = {(r.key_id, r.day): r.count for r in rows}
    # Only the last 8 days can still be in Redis.
    recent = [until - timedelta(days=i) for i in range(min(8, (until - since).days + 1))]
    for (kid, day), n in _pending_usage(connection.schema_name, recent).items():
        if key_id is None or kid == key_id:
            totals[(kid, day)] = totals.get((kid, day), 0) + n
    names = dict(ApiKey.objects.filter(pk__in={k for k, _ in totals}).values_list("pk", "prefix"))
    result = [
        {"key_id": kid, "key_prefix": names[kid], "day": day, "calls": n}
        for (kid, day), n in totals.items()
        if kid in names
    ]
    return sorted(result, key=lambda r: (r["day"], r["key_id"]), reverse=True)


def api_key_last_used(*, keys) -> dict[int, datetime]:
    """The last-use time of each key, Redis's newer figure where the flush has not run yet."""
    meter.flush()
    stamps = redis().hgetall(last_used_key(connection.schema_name))
    result = {}
    for key in keys:
        ts = stamps.get(str(key.pk).encode())
        pending = datetime.fromtimestamp(float(ts), UTC) if ts else None
        result[key.pk] = max(filter(None, [key.last_used_at, pending]), default=None)
    return result


def api_calls_count(*, day: date) -> int:
    """API key calls of the current tenant on `day` (UTC): flushed and still in Redis."""
    return sum(row["calls"] for row in api_usage_list(since=day, until=day))
