"""seed_demo fills the demo organisation through the real services: members of every role with
names, pending invitations, activity in words, notifications, API keys, a webhook with deliveries
of every status; run twice, it adds nothing."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django_tenants.utils import tenant_context

from apps.api.models import ApiKey
from apps.events.models import Event
from apps.identity.models import Invitation, Membership
from apps.notifications.models import Notification, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.tenancy.models import Tenant
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def counts(demo) -> dict:
    with tenant_context(demo):
        return {
            "members": Membership.objects.filter(tenant=demo).count(),
            "invitations": Invitation.objects.filter(tenant=demo).count(),
            "events": Event.objects.count(),
            "notifications": Notification.objects.count(),
            "keys": ApiKey.objects.count(),
            "endpoints": WebhookEndpoint.objects.count(),
            "deliveries": WebhookDelivery.objects.count(),
            "attempts": WebhookAttempt.objects.count(),
        }


def test_seed_demo_fills_the_demo_with_a_living_organisation_once(_session_tenants):
    out = seed()
    for step in ("webhook endpoint", "members", "pending invitations", "API keys", "activity and notifications"):
        assert step in out and "[########################] 100%" in out
    demo = Tenant.objects.get(slug="demo")
    roles = {m.user.full_name: m.role for m in Membership.objects.filter(tenant=demo).select_related("user")}
    assert roles == {
        "Demo Owner": "owner",
        "Grace Hopper": "admin",
        "Alan Turing": "member",
        "Katherine Johnson": "viewer",
    }
    assert sorted(Invitation.objects.pending().filter(tenant=demo).values_list("email", flat=True)) == [
        "linus@demo.localhost",
        "margaret@demo.localhost",
    ]
    assert not [m for m in mail.outbox if "demo.localhost" in " ".join(m.to)]  # nobody was emailed
    with tenant_context(demo):
        types = set(Event.objects.values_list("type", flat=True))
        assert {"member.joined", "invitation.sent", "invitation.accepted", "member.role_changed"} <= types
        assert {"api_key.created", "api_key.revoked"} <= types
        assert not Event.objects.filter(dispatched_at__isnull=True).exists()  # handled: real notifications
        owner = Membership.objects.get(tenant=demo, role="owner").user
        titles = set(Notification.objects.filter(user=owner).values_list("title", flat=True))
        assert "Grace Hopper changed Alan Turing's role to Member" in titles
        assert "Katherine Johnson accepted Demo Owner's invitation" in titles
        statuses = set(WebhookDelivery.objects.values_list("status", flat=True))
        assert statuses == {"succeeded", "failed", "pending"}
        assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1

    client = client_for(demo, owner)
    assert "Demo Owner created the API key “CI deploy”" in client.get("/").content.decode()
    assert "Grace Hopper invited alan@demo.localhost as viewer" in client.get("/activity/").content.decode()

    before = counts(demo)
    again = seed()
    assert "Seeded" not in again and "already there" in again
    assert counts(demo) == before
