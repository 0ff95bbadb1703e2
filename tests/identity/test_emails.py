"""Branded emails: allauth's and the hub's own, each with a text part and an HTML part in the
organisation's name (and logo), the subject led by the organisation's or the platform's name."""

import io
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.identity.models import Membership
from apps.identity.services import invitation_create
from apps.tenancy.services import tenant_settings_update
from tests.conftest import client_for


def parts(message) -> tuple[str, str]:
    [(html, kind)] = message.alternatives
    assert kind == "text/html"
    return message.body, html


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_password_reset_email_is_in_the_organisations_name(tenant_a, owner_a):
    client_for(tenant_a).post("/accounts/password/reset/", {"email": owner_a.email})
    [message] = mail.outbox
    assert message.subject == "[Alpha Ltd] Reset your password"
    text, html = parts(message)
    link = re.search(r"http://alpha\.localhost(?::\d+)?/accounts/password/reset/key/\S+", text).group(0)
    assert text.startswith("Hello,") and text.rstrip().endswith("— Alpha Ltd")
    assert "localhost:8000!" not in text and "Hello from" not in text
    assert f'<a href="{link}"' in html  # the same link, clickable
    assert "Alpha Ltd</span>" in html and "Sent by ReactDjango-Hub for Alpha Ltd" in html
    assert "<img" not in html  # no logo set


@pytest.mark.django_db
def test_the_organisations_logo_heads_its_emails(tenant_a, owner_a):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, "PNG")
    tenant_settings_update(tenant=tenant_a, name="Alpha Ltd", logo=SimpleUploadedFile("l.png", buffer.getvalue()))
    client_for(tenant_a).post("/accounts/password/reset/", {"email": owner_a.email})
    _, html = parts(mail.outbox[-1])
    assert '<img src="http://alpha.localhost:8000/settings/logo/" alt="Alpha Ltd"' in html


@pytest.mark.django_db
def test_email_confirmation_is_branded_with_text_and_html(tenant_a, owner_a):
    client_for(tenant_a, owner_a).post("/accounts/email/", {"email": "new@alpha.example.com", "action_add": ""})
    [message] = mail.outbox
    assert message.subject == "[Alpha Ltd] Confirm your email address"
    assert "[localhost" not in message.subject
    text, html = parts(message)
    assert "/accounts/confirm-email/" in text and "/accounts/confirm-email/" in html


@pytest.mark.django_db
def test_public_site_emails_carry_the_platforms_name(tenant_a):
    client_for(None).post(
        "/accounts/signup/",
        {
            "full_name": "Fay Founder",
            "organisation_name": "Mail Co",
            "organisation_slug": "mail-co",
            "email": "founder@mail.example.com",
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
        },
    )
    [message] = mail.outbox
    assert message.subject == "[ReactDjango-Hub] Finish creating Mail Co"
    text, html = parts(message)
    assert "/accounts/signup/finish/" in text and "ReactDjango-Hub</span>" in html


@pytest.mark.django_db
def test_invitation_email_is_branded(tenant_a, owner_a, django_capture_on_commit_callbacks):
    owner_a.full_name = "Ann Owner"
    owner_a.save()
    actor = Membership.objects.get(user=owner_a, tenant=tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(actor=actor, email="guest@example.com", role="member")
    [message] = mail.outbox
    assert message.subject == "[Alpha Ltd] You are invited to join Alpha Ltd"
    text, html = parts(message)
    assert "Ann Owner invited you to join Alpha Ltd" in text
    assert "Accept the invitation</a>" in html and "Alpha Ltd</span>" in html
