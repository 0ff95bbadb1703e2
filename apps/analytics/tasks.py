"""Celery tasks: thin, they call a service. A task runs in the schema of the tenant that sent it."""

from celery import shared_task

from apps.tenancy.models import Tenant

from . import services

# The worker looks the tenant of a task up by its schema; keep it for a while.
TENANT_CACHE_SECONDS = 30


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def write_events() -> int:
    """Writes the tenant's queued events (capture sends it, at most one queued at a time)."""
    return services.events_write_queued()


@shared_task(tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def maintain_partitions() -> list[str]:
    return services.partitions_maintain()


@shared_task(ignore_result=True)
def maintain_partitions_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one partition upkeep per active tenant."""
    schemas = list(
        Tenant.objects.exclude(schema_name="public")
        .filter(status=Tenant.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        maintain_partitions.apply_async(headers={"_schema_name": schema})
    return len(schemas)
