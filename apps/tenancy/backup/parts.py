"""The tenant's rows in the public schema: the backup parts the apps register (apps.core.registry
BackupPart), and the users they refer to."""

from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.files.storage import storages
from django.db import models

from apps.core.registry import BackupPart, registry

from ..models import Domain, Tenant
from ..regions import KINDS, region_storage

# The fields of a user kept in a backup. Operator flags (is_staff, is_superuser) never are.
USER_FIELDS = ("email", "full_name", "is_active", "date_joined")


@dataclass
class RestoreContext:
    """What a restore knows as it goes; a BackupPart's adjust() gets it with each row."""

    manifest: dict
    tenant: Tenant
    user_map: dict[int, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def public_parts() -> list[BackupPart]:
    """The public rows that belong to a tenant's backup, as the apps registered them."""
    return [part for part in registry["backup_parts"].values() if part.rows is not None and not part.skip_reason]


def schema_preparers() -> list:
    """What makes, in a new tenant's schema, the tables that migrations do not (BackupPart.prepare)."""
    return [part.prepare for part in registry["backup_parts"].values() if part.prepare is not None]


def file_parts() -> dict[str, BackupPart]:
    """The parts whose files (outside the database) travel with a backup, by model label."""
    return {part.model: part for part in registry["backup_parts"].values() if part.files is not None}


def public_not_backed_up() -> dict[str, str]:
    """Public models that refer to a tenant but are deliberately not backed up, and why.
    tests/tenancy/test_backup.py fails when such a model is registered neither way."""
    return {part.model: part.skip_reason for part in registry["backup_parts"].values() if part.skip_reason}


def model_class(part: BackupPart) -> type[models.Model] | None:
    """The part's model, or None when its app is not installed (the part is skipped)."""
    try:
        return apps.get_model(part.model)
    except LookupError:
        return None


def adjust_domain(domain: Domain, context: RestoreContext) -> Domain | None:
    old_default = f"{context.manifest['slug']}.{context.manifest['base_hostname']}"
    if domain.domain == old_default:
        domain.domain = f"{context.tenant.slug}.{settings.HUB_BASE_HOSTNAME}"
    holder = Domain.objects.filter(domain=domain.domain).exclude(tenant=context.tenant).first()
    if holder is not None:
        context.notes.append(f"domain {domain.domain} not restored: it is served by {holder.tenant.slug}")
        return None
    return domain


def part_store(part: BackupPart, schema: str):
    """The storage a file part's files of `schema` are in: the tenant's region's for the kinds a
    region keeps (apps.tenancy.regions), else the part's own."""
    if part.file_storage in KINDS:
        return region_storage(part.file_storage, schema=schema)
    return storages[part.file_storage]
