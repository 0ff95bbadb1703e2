"""Celery tasks: thin, they call a service. A task runs in the schema of the tenant that sent it."""

from celery import shared_task
from django.db import connection

from apps.tenancy.models import Tenant

from . import services, tus


@shared_task(ignore_result=True)
def trash_purge() -> int:
    return services.trash_purge_expired(tenant=connection.tenant)


@shared_task(ignore_result=True)
def uploads_expire() -> int:
    return tus.uploads_expire(tenant=connection.tenant)


def _each_tenant(task) -> int:
    """Sends `task` once per active tenant, to run in its schema; returns how many."""
    schemas = list(
        Tenant.objects.exclude(schema_name="public")
        .filter(status=Tenant.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        task.apply_async(headers={"_schema_name": schema})
    return len(schemas)


@shared_task(ignore_result=True)
def trash_purge_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one trash purge per active tenant."""
    return _each_tenant(trash_purge)


@shared_task(ignore_result=True)
def uploads_expire_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one expiry of stale uploads per active tenant."""
    return _each_tenant(uploads_expire)
