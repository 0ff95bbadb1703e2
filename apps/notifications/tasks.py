"""Celery tasks of notifications and webhooks: thin, each calls a service."""

from celery import shared_task
from django.db import connection

from apps.events.queue import task_started
from apps.events.tasks import TENANT_CACHE_SECONDS

from . import services, webhooks


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def deliver_webhooks(endpoint_id: int) -> int:
    """Sends every due delivery of the endpoint (at most one queued at a time, see apps.events.queue)."""
    task_started(schema_name=connection.schema_name, key=webhooks.queue_key(endpoint_id))
    return webhooks.endpoint_deliver_due(endpoint_id=endpoint_id)


@shared_task(bind=True, acks_late=True, max_retries=5, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def send_notification_email(self, notification_id: int) -> bool:
    try:
        return services.notification_email_send(notification_id=notification_id)
    except OSError as exc:  # the SMTP server is down or refused: try again later
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def send_push(notification_id: int) -> int:
    return services.push_send(notification_id=notification_id)
