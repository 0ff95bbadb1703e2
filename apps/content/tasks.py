"""Celery tasks: thin, they call a service. A task runs in the schema of the tenant that sent it."""

from celery import shared_task
from django.db import connection

from apps.tenancy.models import Tenant

from . import services


@shared_task(ignore_result=True)
def trash_purge() -> int:
    return services.trash_purge_expired(tenant=connection.tenant)


@shared_task(ignore_result=True)
def trash_purge_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one trash purge per active tenant."""
    schemas = list(
        Tenant.objects.exclude(schema_name="public")
        .filter(status=Tenant.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        trash_purge.apply_async(headers={"_schema_name": schema})
    return len(schemas)
