"""Periodic upkeep: move usage counted in Redis into each tenant's ApiKeyUsage; purge
idempotency records past their 24 hours. Both loop over the tenants themselves."""

from celery import shared_task
from django_tenants.utils import schema_context

from apps.tenancy.models import Tenant

from .services import idempotency_purge, usage_flush


def _tenant_schemas():
    return Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True)


@shared_task(name="api.usage_flush")
def usage_flush_all() -> int:
    moved = 0
    for schema in _tenant_schemas():
        with schema_context(schema):
            moved += usage_flush(schema=schema)
    return moved


@shared_task(name="api.idempotency_purge")
def idempotency_purge_all() -> int:
    purged = 0
    for schema in _tenant_schemas():
        with schema_context(schema):
            purged += idempotency_purge()
    return purged
