"""The dashboard's member, organisation, profile and invitation pages when the input is bad or the
action is not allowed: the page says why, and nothing changes."""

import pytest
from django.contrib.messages import get_messages
from django_tenants.utils import tenant_context

from apps.events.models import Event
from apps.identity import mfa
from apps.identity.handover import handover_url
from apps.identity.models import Invitation, Membership
from apps.identity.services import invitation_create
from tests.conftest import client_for, set_mfa_state
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _actor(tenant, user):
    return Membership.objects.get(tenant=tenant, user=user)


def test_an_unknown_role_is_refused_with_a_message(tenant_a, owner_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    response = client_for(tenant_a, owner_a).post(f"/members/{member.pk}/role/", {"role": "superuser"})
    assert response.status_code == 302
    assert "not one of the available choices" in " ".join(messages_of(response))
    member.refresh_from_db()
    assert member.role == "member"


def test_a_member_who_leaves_lands_on_the_public_site_told_so(tenant_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    response = client_for(tenant_a, member.user).post(f"/members/{member.pk}/remove/")
    # Not the tenant's members or profile page: those now answer 403 to this user.
    assert response["Location"] == "http://localhost:8000/?left=1"
    assert b"You have left the organisation." in client_for(None).get("/?left=1").content
    assert not Membership.objects.filter(pk=member.pk).exists()
    with tenant_context(tenant_a):
        left = Event.objects.filter(type="member.removed").latest("occurred_at")
    assert left.payload["left"] is True
    assert left.payload["email"] == member.user.email


def test_a_member_cannot_remove_someone_else(tenant_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    other = MembershipFactory(tenant=tenant_a, role="viewer")
    response = client_for(tenant_a, member.user).post(f"/members/{other.pk}/remove/")
    assert response["Location"] == "/members/"
    assert messages_of(response) == ["Your role does not allow removing this member."]
    assert Membership.objects.filter(pk=other.pk).exists()


def test_an_admin_withdraws_a_pending_invitation(tenant_a, owner_a):
    invitation, token = invitation_create(actor=_actor(tenant_a, owner_a), email="maybe@example.com", role="member")
    admin = MembershipFactory(tenant=tenant_a, role="admin")
    client = client_for(tenant_a, admin.user)
    response = client.post(f"/invitations/{invitation.pk}/revoke/")
    assert response["Location"] == "/members/"
    assert messages_of(response) == ["The invitation to maybe@example.com was withdrawn."]
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    # The link no longer works, and withdrawing twice finds nothing.
    assert client_for(tenant_a).get(f"/invitations/{token}/").status_code == 410
    assert client.post(f"/invitations/{invitation.pk}/revoke/").status_code == 404


def test_an_invitation_of_another_tenant_cannot_be_withdrawn(tenant_a, owner_a, tenant_b, owner_b):
    invitation, _ = invitation_create(actor=_actor(tenant_b, owner_b), email="b-guest@example.com", role="member")
    assert client_for(tenant_a, owner_a).post(f"/invitations/{invitation.pk}/revoke/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_an_empty_organisation_name_is_refused(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).post("/settings/", {"name": "   "})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    tenant_a.refresh_from_db()
    assert tenant_a.name == "Alpha Ltd"


def test_deleting_the_organisation_needs_its_address_typed(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).post("/settings/delete/", {"confirm_slug": "beta"})
    assert response.status_code == 400
    assert response.context["delete_form"].errors["confirm_slug"] == ["Type “alpha” to confirm."]
    tenant_a.refresh_from_db()  # still there


def test_a_too_long_name_on_the_profile_is_refused(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).post("/profile/", {"full_name": "x" * 151})
    assert response.status_code == 400
    assert "full_name" in response.context["form"].errors
    owner_a.refresh_from_db()
    assert owner_a.full_name != "x" * 151


def test_the_switcher_sends_an_sso_session_to_the_other_tenants_login(tenant_a, tenant_b, owner_a):
    MembershipFactory(tenant=tenant_b, user=owner_a, role="member")
    client = client_for(tenant_a, owner_a)
    set_mfa_state(client, mfa.SSO)
    response = client.post("/switch/beta/")
    assert response["Location"] == "http://beta.localhost:8000/accounts/login/"


def test_the_switcher_refuses_a_suspended_tenant(tenant_a, tenant_b, owner_a):
    MembershipFactory(tenant=tenant_b, user=owner_a, role="member")
    tenant_b.status = "suspended"
    tenant_b.save(update_fields=["status"])
    assert client_for(tenant_a, owner_a).post("/switch/beta/").status_code == 404


def test_a_handover_for_a_deactivated_account_does_not_log_in(tenant_a, owner_a):
    url = handover_url(user=owner_a, tenant=tenant_a)
    owner_a.is_active = False
    owner_a.save(update_fields=["is_active"])
    client = client_for(tenant_a)
    response = client.get(url.removeprefix("http://alpha.localhost:8000"))
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_a_logged_in_user_sees_the_invitation_before_accepting(tenant_a, owner_a, owner_b):
    _, token = invitation_create(actor=_actor(tenant_a, owner_a), email=owner_b.email, role="viewer")
    page = client_for(tenant_a, owner_b).get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert page.context["invitation"].email == owner_b.email
    assert not Membership.objects.filter(tenant=tenant_a, user=owner_b).exists()


def test_an_invitation_for_another_address_is_refused_to_a_logged_in_user(tenant_a, owner_a, owner_b):
    invitation, token = invitation_create(actor=_actor(tenant_a, owner_a), email="someone@example.com", role="member")
    response = client_for(tenant_a, owner_b).post(f"/invitations/{token}/")
    assert response.status_code == 400
    assert response.context["problem"] == "This invitation is for someone@example.com. Log in with that address."
    assert not Membership.objects.filter(tenant=tenant_a, user=owner_b).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_an_unknown_invitation_link_is_404(tenant_a):
    response = client_for(tenant_a).get("/invitations/not-a-token/")
    assert response.status_code == 404
    assert response.context["problem"] == "This invitation link is not valid."


def test_signing_up_through_an_invitation_checks_the_passwords(tenant_a, owner_a):
    invitation, token = invitation_create(actor=_actor(tenant_a, owner_a), email="fresh@example.com", role="member")
    guest = client_for(tenant_a)
    differ = guest.post(f"/invitations/{token}/", {"password1": "fresh-password-42", "password2": "other-password-42"})
    assert differ.status_code == 400
    assert differ.context["form"].errors["password2"] == ["The two passwords differ."]
    weak = guest.post(f"/invitations/{token}/", {"password1": "123", "password2": "123"})
    assert weak.status_code == 400
    assert "password1" in weak.context["form"].errors
    assert not Membership.objects.filter(tenant=tenant_a, user__email="fresh@example.com").exists()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


def test_an_accepted_invitation_link_then_says_it_was_used(tenant_a, owner_a):
    _, token = invitation_create(actor=_actor(tenant_a, owner_a), email="twice@example.com", role="member")
    first = UserFactory(email="twice@example.com")
    assert client_for(tenant_a, first).post(f"/invitations/{token}/").status_code == 302
    again = client_for(tenant_a, first).get(f"/invitations/{token}/")
    assert again.status_code == 410
    assert again.context["problem"] == "This invitation has already been used or was withdrawn."


def test_signing_up_through_an_invitation_needs_a_password(tenant_a, owner_a):
    _, token = invitation_create(actor=_actor(tenant_a, owner_a), email="nopass@example.com", role="member")
    response = client_for(tenant_a).post(f"/invitations/{token}/", {"full_name": "No Pass"})
    assert response.status_code == 400
    assert response.context["form"].errors["password1"] == ["This field is required."]
    assert not Membership.objects.filter(tenant=tenant_a, user__email="nopass@example.com").exists()


@pytest.mark.parametrize("next_path", ["//evil.example.com/", "https://evil.example.com/"])
def test_a_handover_never_sends_the_user_off_site(tenant_a, owner_a, next_path):
    url = handover_url(user=owner_a, tenant=tenant_a, next_path=next_path)
    response = client_for(tenant_a).get(url.removeprefix("http://alpha.localhost:8000"))
    assert response["Location"] == "/"
