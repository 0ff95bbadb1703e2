"""Notification e-mail through a real SMTP server (aiosmtpd) started by the test."""

import email
from email import policy

import pytest

from apps.identity.models import Membership
from apps.identity.services import invitation_accept_new_user, invitation_create
from apps.notifications import services
from tests.conftest import client_for
from tests.smtp import smtp_server


@pytest.fixture
def smtp(settings):
    with smtp_server() as inbox:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", inbox.port, False
        yield inbox


def test_notification_email_arrives_with_html_text_and_one_click_unsubscribe(
    in_tenant_a, owner_a, smtp, eager_tasks, django_capture_on_commit_callbacks
):
    services.preference_set(user=owner_a, event_type="member.joined", channel="both")
    owner = Membership.objects.get(tenant=in_tenant_a, role="owner")
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = invitation_create(actor=owner, email="smtp-joiner@example.com", role="member")
    with django_capture_on_commit_callbacks(execute=True):
        invitation_accept_new_user(invitation=invitation, password="a-long-password-1")
    assert smtp.arrived.wait(10)

    received = [
        email.message_from_bytes(content, policy=policy.default)
        for _, to, content in smtp.messages
        if to == [owner_a.email]
    ]
    [message] = [m for m in received if "joined" in m["subject"]]
    assert message["subject"] == "[Alpha Ltd] smtp-joiner@example.com joined as member"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = str(message["List-Unsubscribe"]).strip().strip("<>")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "smtp-joiner@example.com joined as member" in text and unsubscribe_url in text
    assert "<h1" in html and unsubscribe_url.replace("&", "&amp;") in html
    assert "http://alpha.localhost:8000/members/" in text

    # The mail client's one-click POST (RFC 8058) turns e-mail off for this event type only.
    path = unsubscribe_url.split("alpha.localhost:8000", 1)[1]
    response = client_for(in_tenant_a).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert services.preference_channel(user_id=owner_a.pk, event_type="member.joined") == "in_app"
    assert services.preference_channel(user_id=owner_a.pk, event_type="member.role_changed") == "both"
