import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.identity.models import Membership
from tests.conftest import client_for
from tests.factories import MembershipFactory


@pytest.mark.django_db
def test_role_change_is_audited_with_the_acting_user(tenant_a, owner_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    client_for(tenant_a, owner_a).post(f"/members/{member.pk}/role/", {"role": "viewer"})
    with schema_context(tenant_a.schema_name):
        entry = LogEntry.objects.get_for_object(member).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.actor == owner_a
    assert entry.changes_dict["role"] == ["member", "viewer"]
    assert entry.remote_addr == "127.0.0.1"


@pytest.mark.django_db
def test_tenant_and_user_changes_are_audited(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    client.post("/settings/", {"name": "Alpha Audited"})
    client.post("/profile/", {"full_name": "Audited Owner"})
    with schema_context(tenant_a.schema_name):
        assert LogEntry.objects.get_for_object(tenant_a).filter(changes__icontains="Alpha Audited").exists()
        user_entry = LogEntry.objects.get_for_object(owner_a).latest("timestamp")
    assert "password" not in user_entry.changes_dict
    assert user_entry.actor == owner_a


@pytest.mark.django_db
def test_membership_created_by_command_is_audited_in_public(tenant_a):
    from apps.identity.services import organisation_provision

    tenant, owner = organisation_provision(name="Audit Co", slug="audit-co", owner_email="audit@example.com")
    membership = Membership.objects.get(tenant=tenant, user=owner)
    assert LogEntry.objects.get_for_object(membership).filter(action=LogEntry.Action.CREATE).exists()


def security_entries(schema, since=None):
    """The schema's security entries (those made from `since` on: tests before may have committed some)."""
    with schema_context(schema):
        entries = LogEntry.objects.filter(additional_data__event__isnull=False)
        return list(entries.filter(timestamp__gte=since) if since else entries)


@pytest.mark.django_db
def test_outsiders_log_in_attempts_go_to_the_platforms_log_not_the_tenants(tenant_a, owner_a, owner_b):
    from tests.conftest import PASSWORD

    started = timezone.now()
    outsider = {"REMOTE_ADDR": "203.0.113.9"}
    alpha = client_for(tenant_a)
    alpha.post("/accounts/login/", {"login": "stranger@example.com", "password": "guess-1234"}, **outsider)
    alpha.post("/accounts/login/", {"login": owner_b.email, "password": "guess-1234"}, **outsider)
    # beta's owner is no member of alpha: even a successful log-in on alpha's host is not alpha's business.
    assert alpha.post("/accounts/login/", {"login": owner_b.email, "password": PASSWORD}, **outsider).status_code == 302
    # A member's failure is.
    client_for(tenant_a).post("/accounts/login/", {"login": owner_a.email, "password": "guess-1234"})

    in_alpha = security_entries(tenant_a.schema_name, since=started)
    assert not [e for e in in_alpha if e.remote_addr == "203.0.113.9"]
    assert not [e for e in in_alpha if e.additional_data.get("email") == "stranger@example.com"]
    assert not [e for e in in_alpha if e.object_pk == str(owner_b.pk)]
    assert [e.additional_data["event"] for e in in_alpha] == ["login.failed"]
    assert in_alpha[0].object_pk == str(owner_a.pk)

    in_platform = [e for e in security_entries("public", since=started) if e.remote_addr == "203.0.113.9"]
    assert sorted(e.additional_data["event"] for e in in_platform) == ["login", "login.failed", "login.failed"]
    assert {e.additional_data.get("email") for e in in_platform} >= {"stranger@example.com", owner_b.email}
