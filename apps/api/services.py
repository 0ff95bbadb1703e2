"""Writes on API keys, their usage and idempotency records. Each raises ValidationError naming
the field at fault, or PermissionDenied, and changes nothing when it does."""

import secrets
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.api import scopes as scope_registry
from apps.core.events import publish
from apps.identity.models import Membership
from apps.identity.roles import has_permission

from .keycache import hash_key, keys_changed, redis
from .metering import last_used_key, meter, usage_key
from .models import KEY_PREFIX, ApiKey, ApiKeyUsage, IdempotencyRecord

MAX_KEYS_PER_TENANT = 100


def _clean_scopes(scopes) -> list[str]:
    if isinstance(scopes, str):
        scopes = [s for s in scopes.replace(",", " ").split() if s]
    scopes = list(dict.fromkeys(scopes or []))
    known = set(scope_registry.all_scopes())
    unknown = [s for s in scopes if s not in known]
    if unknown:
        raise ValidationError(
            {"scopes": [f"Unknown scope {', '.join(unknown)}. Choose from: {', '.join(sorted(known))}."]}
        )
    if not scopes:
        raise ValidationError({"scopes": ["Give the key at least one scope."]})
    return scopes


def api_key_create(*, actor: Membership, name: str, scopes, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """Creates a key in the current tenant's schema; returns it and the secret (shown once)."""
    if actor is not None and not has_permission(actor.role, "api_keys.manage"):
        raise PermissionDenied("Your role does not allow managing API keys.")
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the key a name, e.g. what will use it."]
    elif len(name) > 100:
        errors["name"] = ["Use at most 100 characters."]
    try:
        scopes = _clean_scopes(scopes)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["Choose a time in the future."]
    if not errors and ApiKey.objects.filter(revoked_at__isnull=True).count() >= MAX_KEYS_PER_TENANT:
        errors["name"] = [f"An organisation can have at most {MAX_KEYS_PER_TENANT} active keys. Revoke one first."]
    if errors:
        raise ValidationError(errors)

    prefix = KEY_PREFIX + secrets.token_hex(4)
    while ApiKey.objects.filter(prefix=prefix).exists():  # 1 in 4 billion, but never a clash
        prefix = KEY_PREFIX + secrets.token_hex(4)
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=hash_key(raw),
            scopes=scopes,
            created_by=actor.user if actor else None,
            created_by_email=actor.user.email if actor else "",
            expires_at=expires_at,
        )
        _publish("api_key.created", key, actor, scopes=scopes)
    keys_changed(connection.schema_name)
    return key, raw


def _publish(event_type: str, key: ApiKey, actor: Membership | None, **extra) -> None:
    payload = {"key_id": key.pk, "name": key.name, "prefix": key.prefix, **extra}
    publish(event_type, payload, tenant=connection.tenant, actor=actor.user if actor else None)


def api_key_revoke(*, actor: Membership | None, key: ApiKey) -> ApiKey:
    """Revokes at once: every process drops the key from its cache within the same request."""
    if actor is not None and not has_permission(actor.role, "api_keys.manage"):
        raise PermissionDenied("Your role does not allow managing API keys.")
    if key.revoked_at is None:
        with transaction.atomic():
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            _publish("api_key.revoked", key, actor)
    keys_changed(connection.schema_name)
    return key


def usage_flush(*, schema: str) -> int:
    """Moves the usage counted in Redis for `schema` into ApiKeyUsage (and last-use times into
    ApiKey). Run inside that schema. Returns the number of calls moved."""
    meter.flush()
    r = redis()
    moved = 0
    first_uses = []
    for name in r.scan_iter(match=usage_key(schema, "*"), count=100):
        day = date.fromisoformat(name.decode().rsplit(":", 1)[1])
        counts = {int(k): int(v) for k, v in r.hgetall(name).items()}
        existing = set(ApiKey.objects.filter(pk__in=counts).values_list("pk", flat=True))
        with transaction.atomic():
            for key_id, n in counts.items():
                if n <= 0 or key_id not in existing:
                    continue
                updated = ApiKeyUsage.objects.filter(key_id=key_id, day=day).update(count=F("count") + n)
                if not updated:
                    ApiKeyUsage.objects.create(key_id=key_id, day=day, count=n)
                    first_uses.append((key_id, day))
                moved += n
        pipe = r.pipeline(transaction=False)
        for key_id, n in counts.items():
            pipe.hincrby(name, str(key_id), -n)
        pipe.execute()
        # Drop emptied fields; a count that arrived meanwhile stays for the next flush.
        for key_id, n in r.hgetall(name).items():
            if int(n) == 0:
                r.hdel(name, key_id)
    _audit_first_uses(first_uses)
    stamps = r.hgetall(last_used_key(schema))
    for key_id, ts in stamps.items():
        when = datetime.fromtimestamp(float(ts), UTC)
        ApiKey.objects.filter(pk=int(key_id)).exclude(last_used_at__gte=when).update(last_used_at=when)
    return moved


def _audit_first_uses(first_uses: list[tuple[int, date]]) -> None:
    """API-key use in the audit trail: an entry for each key's first calls of a day (its every call
    is counted in ApiKeyUsage; an entry per call would drown the trail), acting as its maker."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    if not first_uses:
        return
    keys = ApiKey.objects.select_related("created_by").in_bulk([key_id for key_id, _ in first_uses])
    content_type = ContentType.objects.get_for_model(ApiKey)
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=content_type,
            object_pk=str(key_id),
            object_id=key_id,
            object_repr=str(keys[key_id])[:200],
            action=LogEntry.Action.ACCESS,
            changes_text="api_key.used",
            actor=keys[key_id].created_by,
            additional_data={"event": "api_key.used", "day": day.isoformat(), "prefix": keys[key_id].prefix},
        )
        for key_id, day in first_uses
        if key_id in keys
    )


def idempotency_purge() -> int:
    """Deletes idempotency records older than the replay window (current schema)."""
    cutoff = timezone.now() - timedelta(hours=settings.HUB_API_IDEMPOTENCY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created__lt=cutoff).delete()
    return deleted
