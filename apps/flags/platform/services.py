"""The platform's flags: saved after the engine's validation, and evaluated for a tenant (its slug
as the distinct id; `plan` and `slug` as its properties). Compiled flags are kept per process for
CACHE_SECONDS, dropped at once when this process saves one."""

import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from .. import engine
from ..definitions import iso_or_none
from .models import PlatformFlag, PlatformFlagVersion

CACHE_SECONDS = 1.0
_cache: dict = {}


def forget() -> None:
    _cache.clear()


def definition_of(flag: PlatformFlag) -> dict:
    return {
        "id": flag.pk,
        "key": flag.key,
        "name": flag.key,
        "description": flag.description,
        "active": flag.active,
        "starts_at": iso_or_none(flag.starts_at),
        "ends_at": iso_or_none(flag.ends_at),
        "filters": flag.filters or {},
        "overrides": flag.overrides or {},
        "version": flag.version,
    }


def platform_flag_errors(flag: PlatformFlag) -> dict:
    others = {f.key: definition_of(f) for f in PlatformFlag.objects.exclude(pk=flag.pk)}
    return engine.validate(definition_of(flag), others=others)


EDITABLE = ("description", "active", "starts_at", "ends_at", "filters", "overrides")


def platform_flag_save(*, flag: PlatformFlag, note: str = "") -> PlatformFlag:
    """Saves `flag` (new or changed) as a new version, kept whole in PlatformFlagVersion;
    ValidationError naming the fields."""
    errors = platform_flag_errors(flag)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if flag.pk:
            flag.version = PlatformFlag.objects.select_for_update().get(pk=flag.pk).version + 1
        flag.save()
        PlatformFlagVersion.objects.create(
            flag=flag,
            version=flag.version,
            definition=definition_of(flag),
            note=note or ("edited" if flag.version > 1 else "created"),
        )
        forget()
        transaction.on_commit(forget)
    return flag


def platform_flag_rollback(*, flag: PlatformFlag, version: int) -> PlatformFlag:
    """Makes the definition of `version` current again, as a new version."""
    old = PlatformFlagVersion.objects.filter(flag=flag, version=version).first()
    if old is None:
        raise ValidationError({"version": [f"“{flag.key}” has no version {version}."]})
    for name in EDITABLE:
        value = old.definition.get(name)
        setattr(flag, name, parse_datetime(value) if name in ("starts_at", "ends_at") and value else value)
    return platform_flag_save(flag=flag, note=f"rolled back to version {version}")


def _compiled() -> dict:
    now = time.monotonic()
    read_at, flags = _cache.get("flags", (None, None))
    if read_at is None or now - read_at > CACHE_SECONDS:
        flags = {f.key: engine.compile_flag(definition_of(f)) for f in PlatformFlag.objects.using("default").all()}
        _cache["flags"] = (now, flags)
    return flags


def platform_flag_value(key: str, tenant) -> bool | str:
    """The flag's value for `tenant` (False for an unknown flag, or no tenant)."""
    if tenant is None or getattr(tenant, "schema_name", "public") == "public":
        return False
    flags = _compiled()
    flag = flags.get(key)
    if flag is None:
        return False
    context = engine.Context(distinct_id=tenant.slug, properties={"plan": tenant.plan, "slug": tenant.slug})
    return engine.evaluate(flag, context, now=time.time(), flags=flags).value


def platform_flag_enabled(key: str, tenant) -> bool:
    return platform_flag_value(key, tenant) is not False
