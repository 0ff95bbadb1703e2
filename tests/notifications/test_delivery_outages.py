"""Notifications while the broker or the SMTP server is down: the notification is kept, the
failure is logged, and the e-mail goes out once the server is back."""

import logging

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from apps.notifications import services
from apps.notifications.models import Notification
from apps.notifications.tasks import send_notification_email
from tests.conftest import broker_down
from tests.processes import free_port

pytestmark = pytest.mark.django_db


def test_a_broker_outage_keeps_the_notification_and_logs_the_unsent_email(
    in_tenant_a, owner_a, caplog, django_capture_on_commit_callbacks
):
    services.preference_set(user=owner_a, event_type="member.joined", channel="email")
    with caplog.at_level(logging.ERROR, logger="apps.notifications.services"), broker_down():
        with django_capture_on_commit_callbacks(execute=True):
            note = services.notification_create(user_id=owner_a.pk, event_type="member.joined", title="Joined")
    assert Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).exists()
    assert f"could not enqueue send_notification_email for notification {note.pk}" in caplog.text


def test_an_smtp_outage_is_retried_and_the_email_sent_once_the_server_is_back(in_tenant_a, owner_a, settings):
    services.preference_set(user=owner_a, event_type="member.joined", channel="email")
    with tenant_context(in_tenant_a):
        note = services.notification_create(user_id=owner_a.pk, event_type="member.joined", title="Joined")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.EMAIL_USE_TLS = False
    down = send_notification_email.apply(args=[note.pk])  # its retries run at once, in this process
    assert down.failed() and isinstance(down.result, ConnectionRefusedError)
    assert Notification.objects.get(pk=note.pk).emailed_at is None  # not marked sent: nothing lost

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    back = send_notification_email.apply(args=[note.pk])
    assert back.successful() and back.result is True
    assert [m.to for m in mail.outbox] == [[owner_a.email]]
    assert Notification.objects.get(pk=note.pk).emailed_at is not None


def test_without_a_channel_layer_live_updates_are_skipped(settings):
    from apps.core import realtime

    settings.CHANNEL_LAYERS = {}
    assert realtime.group_send("t_alpha.tenant", {"type": "hub.event"}) is False
