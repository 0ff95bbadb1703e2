"""Celery tasks: thin, they call a service. A task runs in the schema of the tenant that sent it."""

from celery import shared_task
from django.db import connection

from apps.tenancy.selectors import task_to_every_tenant

from . import services, tus


@shared_task(ignore_result=True)
def trash_purge() -> int:
    return services.trash_purge_expired(tenant=connection.tenant)


@shared_task(ignore_result=True)
def uploads_expire() -> int:
    return tus.uploads_expire(tenant=connection.tenant)


@shared_task(ignore_result=True)
def trash_purge_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one trash purge per active tenant."""
    return task_to_every_tenant(trash_purge)


@shared_task(ignore_result=True)
def uploads_expire_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one expiry of stale uploads per active tenant."""
    return task_to_every_tenant(uploads_expire)
