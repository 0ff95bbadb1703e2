"""Celery tasks: thin, they call a service. A task runs in the schema of the tenant that sent it."""

from celery import shared_task
from django.db import connection

from apps.tenancy.selectors import task_to_every_tenant

from . import services, tus
from .processing import Unreadable

RETRIES = 4


def backoff(retries: int) -> int:
    """Seconds before retry number `retries` + 1: 10, 40, 160, 600."""
    return min(600, 10 * 4**retries)


@shared_task(ignore_result=True)
def trash_purge() -> int:
    return services.trash_purge_expired(tenant=connection.tenant)


@shared_task(ignore_result=True)
def uploads_expire() -> int:
    return tus.uploads_expire(tenant=connection.tenant)


@shared_task(bind=True, acks_late=True, max_retries=RETRIES, ignore_result=True)
def process_version(self, version_id: int) -> None:
    """Text, OCR and pictures of a new version's blob. A file that cannot be read fails at once;
    anything else (storage, database) is retried with backoff; the last failure is reported."""
    tenant = connection.tenant
    try:
        services.version_process(tenant=tenant, version_id=version_id)
    except Unreadable as exc:
        services.version_process_failed(tenant=tenant, version_id=version_id, reason=str(exc))
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            reason = f"Something went wrong on our side ({type(exc).__name__}), {self.max_retries + 1} times."
            services.version_process_failed(tenant=tenant, version_id=version_id, reason=reason)
            raise
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(ignore_result=True)
def trash_purge_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one trash purge per active tenant."""
    return task_to_every_tenant(trash_purge)


@shared_task(ignore_result=True)
def uploads_expire_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one expiry of stale uploads per active tenant."""
    return task_to_every_tenant(uploads_expire)
