"""Data residency: each tenant has a region, recorded when it is created, and its files and exports
are kept in that region's storages.

settings.HUB_REGIONS maps a region's key to its label and, per kind of file, the STORAGES alias
that holds it there: `{"eu": {"label": "European Union", "default": "files-eu", "content":
"content-eu"}}` — "default" for exports, reports, copies and archives, "content" for documents'
blobs. `region_storage(kind)` is the storage of the tenant being served (by its schema, so a task
or a schema_context finds it too). A tenant's region does not change in place: moving a tenant is
a backup and a restore into a hub of the other region (docs/operations/residency.md).
"""

import time

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import connection

KINDS = ("default", "content")
_REGION_SECONDS = 60.0
_regions: dict[str, tuple[float, str]] = {}  # schema -> (read at, region)


def region_check(region: str) -> str:
    """The region to record for a new tenant (the default one when empty), or a ValidationError."""
    region = (region or "").strip() or settings.HUB_DEFAULT_REGION
    if region not in settings.HUB_REGIONS:
        raise ValidationError({"region": [f"Choose one of: {', '.join(settings.HUB_REGIONS)}."]})
    return region


def region_of(schema: str | None = None) -> str:
    """The region of the tenant whose schema is `schema` (default: the one being served)."""
    schema = schema or connection.schema_name
    tenant = getattr(connection, "tenant", None)
    if getattr(tenant, "schema_name", None) == schema and getattr(tenant, "region", None) is not None:
        return tenant.region or settings.HUB_DEFAULT_REGION
    now = time.monotonic()
    read_at, region = _regions.get(schema, (None, ""))
    if read_at is None or now - read_at > _REGION_SECONDS:
        from .models import Tenant

        region = Tenant.objects.filter(schema_name=schema).values_list("region", flat=True).first() or ""
        _regions[schema] = (now, region)
    return region or settings.HUB_DEFAULT_REGION


def region_forget(schema: str) -> None:
    """Drops what this process read of `schema`'s region (a tenant made or deleted)."""
    _regions.pop(schema, None)


def region_label(region: str) -> str:
    return settings.HUB_REGIONS.get(region, {}).get("label", region)


def region_storage(kind: str = "default", *, schema: str | None = None):
    """The storage that keeps the tenant's files of `kind` in its region."""
    return storages[settings.HUB_REGIONS[region_of(schema)][kind]]


def check_regions(app_configs=None, **kwargs) -> list[Error]:
    """System check: the default region exists and every region names storages that exist."""
    errors = []
    if settings.HUB_DEFAULT_REGION not in settings.HUB_REGIONS:
        errors.append(
            Error(f"HUB_DEFAULT_REGION {settings.HUB_DEFAULT_REGION!r} is not in HUB_REGIONS.", id="hub.E020")
        )
    for key, conf in settings.HUB_REGIONS.items():
        for kind in KINDS:
            alias = conf.get(kind)
            if alias not in settings.STORAGES:
                errors.append(
                    Error(f"HUB_REGIONS[{key!r}][{kind!r}] names {alias!r}, which is not in STORAGES.", id="hub.E021")
                )
    return errors
