"""Celery tasks of notifications and webhooks: thin, each calls a service."""

from celery import shared_task

from apps.events.tasks import TENANT_CACHE_SECONDS

from . import services, webhooks


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def deliver_webhook(delivery_id: str) -> str:
    return webhooks.delivery_attempt(delivery_id=delivery_id)


@shared_task(bind=True, acks_late=True, max_retries=5, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def send_notification_email(self, notification_id: int) -> bool:
    try:
        return services.notification_email_send(notification_id=notification_id)
    except OSError as exc:  # the SMTP server is down or refused: try again later
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def send_push(notification_id: int) -> int:
    return services.push_send(notification_id=notification_id)
