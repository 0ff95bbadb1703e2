"""Notification e-mail end to end with real processes: an event published in one process is
dispatched by a real Celery worker, which sends the e-mail to a real SMTP server (aiosmtpd),
honouring the member's preference."""

import email
from email import policy

import pytest
from django_tenants.utils import tenant_context

from apps.events.models import Event
from apps.notifications import services
from apps.notifications.models import Notification, NotificationPreference
from apps.tenancy.services import tenant_rename
from tests.conftest import committed, subprocess_env
from tests.processes import celery_worker
from tests.smtp import smtp_server

pytestmark = pytest.mark.e2e


@pytest.mark.django_db
def test_a_worker_emails_a_notification_through_a_real_smtp_server(tenant_a, owner_a):
    old_name = tenant_a.name
    with smtp_server() as inbox:
        env = subprocess_env(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(inbox.port),
        )
        with celery_worker(env):

            def rename():
                with tenant_context(tenant_a):
                    services.preference_set(user=owner_a, event_type="organisation.settings_changed", channel="email")
                    tenant_rename(tenant=tenant_a, name="Alpha Mailed Ltd")

            try:
                committed(rename)  # commits: the dispatch task goes to the real broker
                assert inbox.arrived.wait(30), "no e-mail reached the SMTP server"
            finally:

                def undo():
                    with tenant_context(tenant_a):
                        Notification.objects.filter(event_type="organisation.settings_changed").delete()
                        Event.objects.filter(type="organisation.settings_changed").delete()
                        NotificationPreference.objects.filter(user=owner_a).delete()
                    tenant_a.name = old_name
                    tenant_a.save(update_fields=["name"])

                committed(undo)

    [(_, to, content)] = inbox.messages
    message = email.message_from_bytes(content, policy=policy.default)
    assert to == [owner_a.email]
    assert "Alpha Mailed Ltd" in message["subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(preferencelist=("html",)) is not None
