"""Celery tasks of the event spine. Tasks are thin: they call a service."""

from celery import shared_task
from django.db import connection

from apps.tenancy.selectors import task_to_every_tenant

from . import services, streaming
from .queue import recover_held, task_started

# The worker looks the tenant of a task up by its schema; keep it for a while (one query less per task).
TENANT_CACHE_SECONDS = 30


@shared_task(bind=True, max_retries=5, acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def dispatch_event(self, event_id: str) -> bool:
    try:
        return services.event_dispatch(event_id=event_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def dispatch_events() -> int:
    """Dispatches every new event of the tenant (publish sends it, at most one queued at a time)."""
    task_started(schema_name=connection.schema_name, key=services.DISPATCH_KEY)
    return services.events_dispatch_new()


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def stream_events() -> int:
    """Publishes the tenant's queued events to the external stream, in order (one at a time per tenant)."""
    task_started(schema_name=connection.schema_name, key=streaming.STREAM_KEY)
    return streaming.events_stream_pending()


@shared_task(tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def sweep_tenant() -> int:
    return services.tenant_sweep()


@shared_task
def sweep_all_tenants() -> int:
    """Beat runs this in the public schema; it fans out one sweep per active tenant."""
    return task_to_every_tenant(sweep_tenant)


@shared_task(ignore_result=True)
def recover_held_tasks() -> int:
    """Beat runs this every HUB_EVENTS_RECOVERY_SECONDS: the work a dead worker held is sent again."""
    return recover_held()
