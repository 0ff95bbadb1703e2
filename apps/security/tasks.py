"""Security's Celery tasks: the daily posture check of every tenant."""

from celery import shared_task
from django.db import connection

from apps.tenancy.selectors import task_to_every_tenant

from . import services


@shared_task(ignore_result=True)
def posture_scan() -> int:
    """Checks and stores the posture of the tenant the task runs in; returns its score."""
    return services.posture_scan_run(tenant=connection.tenant).score


@shared_task(ignore_result=True)
def posture_scan_all_tenants() -> int:
    """Beat runs this in the public schema daily; it sends one posture check per active tenant."""
    return task_to_every_tenant(posture_scan)
