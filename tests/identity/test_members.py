import re

import pytest
from django.core import mail
from django.utils import timezone

from apps.identity.models import Invitation, Membership
from tests.conftest import PASSWORD, client_for
from tests.factories import MembershipFactory, UserFactory


def _member(tenant, role):
    return MembershipFactory(tenant=tenant, role=role)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, path, status",
    [
        ("viewer", "/members/", 200),
        ("viewer", "/settings/", 403),
        ("member", "/settings/", 403),
        ("admin", "/settings/", 200),
        ("viewer", "/profile/", 200),
    ],
)
def test_pages_check_the_role(tenant_a, role, path, status):
    m = _member(tenant_a, role)
    assert client_for(tenant_a, m.user).get(path).status_code == status


@pytest.mark.django_db
def test_viewer_cannot_invite(tenant_a):
    viewer = _member(tenant_a, "viewer")
    response = client_for(tenant_a, viewer.user).post("/members/invite/", {"email": "x@example.com", "role": "member"})
    assert response.status_code == 403
    assert not Invitation.objects.filter(email="x@example.com").exists()


@pytest.mark.django_db
def test_invite_new_user_who_signs_up_through_the_link(tenant_a, owner_a, django_capture_on_commit_callbacks):
    client = client_for(tenant_a, owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/members/invite/", {"email": "New.Person@example.com", "role": "admin"})
    assert response.status_code == 302
    page = client.get("/members/")
    assert b"new.person@example.com" in page.content

    message = mail.outbox[-1]
    assert message.to == ["new.person@example.com"]
    path = re.search(r"http://alpha\.localhost:8000(/invitations/\S+/)", message.body).group(1)

    guest = client_for(tenant_a)
    assert b"Create account and join" in guest.get(path).content
    response = guest.post(
        path, {"full_name": "New Person", "password1": "fresh-password-42", "password2": "fresh-password-42"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(tenant=tenant_a, user__email="new.person@example.com")
    assert membership.role == "admin"
    assert guest.get("/").status_code == 200

    # The link works once.
    assert client_for(tenant_a).get(path).status_code == 410


@pytest.mark.django_db
def test_existing_user_accepts_after_logging_in(tenant_a, owner_a, tenant_b, owner_b):
    from apps.identity.services import invitation_create

    actor = Membership.objects.get(tenant=tenant_a, user=owner_a)
    _, token = invitation_create(actor=actor, email=owner_b.email, role="member")
    client = client_for(tenant_a)
    assert b"Log in to accept" in client.get(f"/invitations/{token}/").content
    client.post("/accounts/login/", {"login": owner_b.email, "password": PASSWORD})
    assert client.post(f"/invitations/{token}/").status_code == 302
    assert Membership.objects.get(tenant=tenant_a, user=owner_b).role == "member"


@pytest.mark.django_db
def test_expired_invitation_is_refused(tenant_a, owner_a):
    from apps.identity.services import invitation_create

    actor = Membership.objects.get(tenant=tenant_a, user=owner_a)
    invitation, token = invitation_create(actor=actor, email="late@example.com", role="member")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    response = client_for(tenant_a).get(f"/invitations/{token}/")
    assert response.status_code == 410
    assert b"expired" in response.content


@pytest.mark.django_db
def test_invitation_link_of_one_tenant_does_nothing_on_another(tenant_a, owner_a, tenant_b):
    from apps.identity.services import invitation_create

    actor = Membership.objects.get(tenant=tenant_a, user=owner_a)
    _, token = invitation_create(actor=actor, email="cross@example.com", role="member")
    assert client_for(tenant_b).get(f"/invitations/{token}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", ""])
def test_malformed_invitation_email_rerenders_form(tenant_a, owner_a, email):
    before = Invitation.objects.count()
    response = client_for(tenant_a, owner_a).post("/members/invite/", {"email": email, "role": "member"})
    assert response.status_code == 400
    assert "email" in response.context["invite_form"].errors
    assert Invitation.objects.count() == before
    assert not mail.outbox


@pytest.mark.django_db
def test_inviting_an_existing_member_is_refused(tenant_a, owner_a):
    member = _member(tenant_a, "member")
    response = client_for(tenant_a, owner_a).post("/members/invite/", {"email": member.user.email, "role": "member"})
    assert response.status_code == 400
    assert b"already a member" in response.content


@pytest.mark.django_db
def test_admin_cannot_invite_an_owner(tenant_a):
    admin = _member(tenant_a, "admin")
    response = client_for(tenant_a, admin.user).post("/members/invite/", {"email": "boss@example.com", "role": "owner"})
    assert response.status_code == 400
    assert not Invitation.objects.filter(email="boss@example.com").exists()


@pytest.mark.django_db
def test_change_role_and_remove(tenant_a, owner_a):
    member = _member(tenant_a, "member")
    client = client_for(tenant_a, owner_a)
    client.post(f"/members/{member.pk}/role/", {"role": "admin"})
    member.refresh_from_db()
    assert member.role == "admin"
    client.post(f"/members/{member.pk}/remove/")
    assert not Membership.objects.filter(pk=member.pk).exists()


@pytest.mark.django_db
def test_last_owner_cannot_be_demoted_or_removed(tenant_a, owner_a):
    owner = Membership.objects.get(tenant=tenant_a, user=owner_a)
    client = client_for(tenant_a, owner_a)
    response = client.post(f"/members/{owner.pk}/role/", {"role": "admin"}, follow=True)
    assert b"last owner cannot be demoted" in response.content
    response = client.post(f"/members/{owner.pk}/remove/", follow=True)
    assert b"You are the only owner. Make someone else an owner before you leave." in response.content
    owner.refresh_from_db()
    assert owner.role == "owner"


@pytest.mark.django_db
def test_admin_cannot_touch_owners(tenant_a, owner_a):
    admin = _member(tenant_a, "admin")
    owner = Membership.objects.get(tenant=tenant_a, user=owner_a)
    client = client_for(tenant_a, admin.user)
    client.post(f"/members/{owner.pk}/role/", {"role": "viewer"})
    client.post(f"/members/{owner.pk}/remove/")
    owner.refresh_from_db()
    assert owner.role == "owner"


@pytest.mark.django_db
def test_second_owner_can_be_demoted(tenant_a, owner_a):
    other = _member(tenant_a, "owner")
    client_for(tenant_a, owner_a).post(f"/members/{other.pk}/role/", {"role": "member"})
    other.refresh_from_db()
    assert other.role == "member"


@pytest.mark.django_db
def test_membership_ids_of_another_tenant_are_not_found(tenant_a, owner_a, tenant_b, owner_b):
    b_owner = Membership.objects.get(tenant=tenant_b, user=owner_b)
    client = client_for(tenant_a, owner_a)
    assert client.post(f"/members/{b_owner.pk}/role/", {"role": "viewer"}).status_code == 404
    assert client.post(f"/members/{b_owner.pk}/remove/").status_code == 404
    b_owner.refresh_from_db()
    assert b_owner.role == "owner"


@pytest.mark.django_db
def test_rename_and_delete_organisation(tenant_a, owner_a):
    from django_tenants.utils import schema_exists

    from apps.identity.services import organisation_provision

    tenant, owner = organisation_provision(name="Temp", slug="temp-org", owner_email="temp@example.com")
    client = client_for(tenant, owner)
    client.post("/settings/", {"name": "Temp Renamed"})
    tenant.refresh_from_db()
    assert tenant.name == "Temp Renamed"
    # The danger zone names the exact word to type (the address shown above it has a host and port).
    assert "Type “temp-org” to confirm" in client.get("/settings/").content.decode()
    bad = client.post("/settings/delete/", {"confirm_slug": "wrong"})
    assert bad.status_code == 400 and b"to confirm" in bad.content
    assert schema_exists("t_temp_org")
    response = client.post("/settings/delete/", {"confirm_slug": "temp-org"})
    assert response["Location"] == "http://localhost:8000/?deleted=1"
    assert not schema_exists("t_temp_org")


@pytest.mark.django_db
def test_admin_cannot_delete_organisation(tenant_a):
    admin = _member(tenant_a, "admin")
    response = client_for(tenant_a, admin.user).post("/settings/delete/", {"confirm_slug": "alpha"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_profile_update(tenant_a, owner_a):
    client_for(tenant_a, owner_a).post("/profile/", {"full_name": "Ada Lovelace"})
    owner_a.refresh_from_db()
    assert owner_a.full_name == "Ada Lovelace"


def test_user_factory_builds_distinct_users(db):
    assert UserFactory().email != UserFactory().email


@pytest.mark.django_db
def test_the_sole_owner_is_not_offered_leave_and_is_told_why(tenant_a, owner_a):
    from apps.identity.selectors import can_leave

    owner = Membership.objects.get(tenant=tenant_a, user=owner_a)
    assert not can_leave(membership=owner)
    page = client_for(tenant_a, owner_a).get("/members/").content.decode()
    row = page[page.index(f'data-member="{owner_a.email}"') :]
    row = row[: row.index("</tr>")]
    assert 'disabled aria-describedby="leave-blocked">Leave</button>' in row
    assert "You are the only owner. Make someone else an owner before you leave." in row
    assert f'action="/members/{owner.pk}/remove/"' not in row

    second = _member(tenant_a, "owner")
    assert can_leave(membership=owner) and can_leave(membership=second)
    page = client_for(tenant_a, owner_a).get("/members/").content.decode()
    assert "leave-blocked" not in page
    assert f'action="/members/{owner.pk}/remove/"' in page


@pytest.mark.django_db
def test_members_other_than_owners_can_always_leave(tenant_a):
    from apps.identity.selectors import can_leave

    assert can_leave(membership=_member(tenant_a, "viewer"))
    assert can_leave(membership=_member(tenant_a, "admin"))


@pytest.mark.django_db
def test_an_invitation_names_who_sent_it(tenant_a, owner_a, django_capture_on_commit_callbacks):
    owner_a.full_name = "Jane Doe"
    owner_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(tenant_a, owner_a).post("/members/invite/", {"email": "newbie@example.com", "role": "member"})
    sent = next(m for m in mail.outbox if "newbie@example.com" in m.to)
    assert "Jane Doe invited you to join Alpha Ltd as member." in sent.body
    assert "Someone" not in sent.body
