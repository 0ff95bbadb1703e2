"""The foundation's changes publish events: member joined, role changed, member removed,
invitation sent and accepted, organisation settings changed."""

import pytest
from django_tenants.utils import tenant_context

from apps.events.models import Event
from apps.identity import services as identity
from apps.identity.models import Membership
from apps.tenancy.services import tenant_rename
from tests.conftest import client_for
from tests.events.fixtures import add_member


def events_of(tenant, event_type):
    with tenant_context(tenant):
        return list(Event.objects.filter(type=event_type).order_by("occurred_at"))


def owner_membership(tenant, owner):
    return Membership.objects.get(tenant=tenant, user=owner)


def test_role_change_publishes_old_and_new_role(tenant_a, owner_a):
    member = add_member(tenant_a, "rc@example.com")
    identity.membership_change_role(actor=owner_membership(tenant_a, owner_a), membership=member, role="admin")
    [event] = events_of(tenant_a, "member.role_changed")
    assert event.payload == {
        "membership_id": member.pk,
        "user_id": member.user_id,
        "email": "rc@example.com",
        "old_role": "member",
        "new_role": "admin",
    }
    assert event.actor_id == owner_a.pk


def test_removal_and_leaving_publish_member_removed(tenant_a, owner_a):
    removed = add_member(tenant_a, "removed@example.com")
    leaver = add_member(tenant_a, "leaver@example.com")
    identity.membership_remove(actor=owner_membership(tenant_a, owner_a), membership=removed)
    identity.membership_remove(actor=leaver, membership=leaver)
    events = events_of(tenant_a, "member.removed")
    assert [(e.payload["email"], e.payload["left"]) for e in events] == [
        ("removed@example.com", False),
        ("leaver@example.com", True),
    ]


def test_invitation_sent_then_accepted_publishes_three_events(tenant_a, owner_a):
    invitation, _ = identity.invitation_create(
        actor=owner_membership(tenant_a, owner_a), email="new@example.com", role="viewer"
    )
    [sent] = events_of(tenant_a, "invitation.sent")
    assert sent.payload["email"] == "new@example.com" and sent.payload["role"] == "viewer"
    user = identity.invitation_accept_new_user(invitation=invitation, password="a-long-password-1")
    [accepted] = events_of(tenant_a, "invitation.accepted")
    assert accepted.payload["invited_by_id"] == owner_a.pk and accepted.payload["user_id"] == user.pk
    [joined] = events_of(tenant_a, "member.joined")
    assert joined.payload == {
        "membership_id": Membership.objects.get(user=user, tenant=tenant_a).pk,
        "user_id": user.pk,
        "email": "new@example.com",
        "role": "viewer",
    }


def test_renaming_publishes_settings_changed_only_when_something_changed(tenant_a, owner_a):
    old = tenant_a.name
    tenant_rename(tenant=tenant_a, name="Renamed Ltd", actor=owner_a)
    tenant_rename(tenant=tenant_a, name="Renamed Ltd", actor=owner_a)
    [event] = events_of(tenant_a, "organisation.settings_changed")
    assert event.payload == {"changes": {"name": {"old": old, "new": "Renamed Ltd"}}}


def test_settings_page_publishes_with_the_acting_user(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).post("/settings/", {"name": "Via the page"})
    assert response.status_code == 302
    [event] = events_of(tenant_a, "organisation.settings_changed")
    assert event.actor_id == owner_a.pk


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_a_failed_change_publishes_nothing(tenant_a, owner_a, role):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        identity.membership_change_role(
            actor=owner_membership(tenant_a, owner_a), membership=owner_membership(tenant_a, owner_a), role=role
        )
    assert events_of(tenant_a, "member.role_changed") == []
