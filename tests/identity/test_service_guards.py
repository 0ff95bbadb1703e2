"""The identity services' own guards. Views and the API check roles and input first, but the
services are the rules (DESIGN.md: business logic lives there), so each must refuse on its own,
with a message a person can act on, and change nothing when it does."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.events.models import Event
from apps.identity import mfa, services
from apps.identity.models import EmailDevice, Invitation, Membership, RecoveryCodeDevice, TOTPDevice
from tests.conftest import client_for, set_mfa_state
from tests.factories import MembershipFactory, UserFactory
from tests.identity.test_mfa import enrol_totp

pytestmark = pytest.mark.django_db


def owner_membership(tenant):
    return Membership.objects.select_related("user", "tenant").get(tenant=tenant, role="owner")


def events_of(tenant, event_type):
    with tenant_context(tenant):
        return list(Event.objects.filter(type=event_type))


# --- Members and invitations -----------------------------------------------------------------


def test_an_account_is_not_created_twice_for_one_address(owner_a):
    with pytest.raises(ValidationError) as refused:
        services.user_create(email=owner_a.email.upper(), password="x-pass-12345")
    assert refused.value.message_dict == {"email": ["An account with this email address already exists."]}


def test_roles_are_checked_by_the_services_too(tenant_a):
    owner = owner_membership(tenant_a)
    member = MembershipFactory(tenant=tenant_a, role="member")
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    with pytest.raises(ValidationError, match="Choose one of: owner, admin, member, viewer."):
        services.membership_change_role(actor=owner, membership=member, role="superuser")
    with pytest.raises(PermissionDenied, match="Your role does not allow inviting members."):
        services.invitation_create(actor=viewer, email="new@example.com", role="viewer")
    with pytest.raises(ValidationError, match="Choose one of"):
        services.invitation_create(actor=owner, email="new@example.com", role="overlord")
    assert not Invitation.objects.filter(email="new@example.com").exists()
    member.refresh_from_db()
    assert member.role == "member"


def test_setting_the_same_role_again_publishes_nothing(tenant_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    services.membership_change_role(actor=owner_membership(tenant_a), membership=member, role="member")
    assert events_of(tenant_a, "member.role_changed") == []


def test_an_invitation_is_withdrawn_only_by_its_own_tenant(tenant_a, tenant_b):
    invitation, _ = services.invitation_create(actor=owner_membership(tenant_a), email="g@example.com", role="member")
    with pytest.raises(PermissionDenied, match="does not allow revoking invitations"):
        services.invitation_revoke(actor=owner_membership(tenant_b), invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_a_used_or_expired_invitation_cannot_be_accepted(tenant_a):
    user = UserFactory(email="late@example.com")
    invitation, _ = services.invitation_create(actor=owner_membership(tenant_a), email=user.email, role="member")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(ValidationError, match="This invitation has expired. Ask for a new one."):
        services.invitation_accept(invitation=invitation, user=user)
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    with pytest.raises(ValidationError, match="already been used or was withdrawn"):
        services.invitation_accept(invitation=invitation, user=user)
    assert not Membership.objects.filter(tenant=tenant_a, user=user).exists()


def test_accepting_as_someone_who_joined_meanwhile_keeps_their_role(tenant_a):
    """For example after a first log-in through the tenant's IdP: the invitation is used up, and
    no second member.joined is published."""
    user = UserFactory(email="meanwhile@example.com")
    invitation, _ = services.invitation_create(actor=owner_membership(tenant_a), email=user.email, role="admin")
    Membership.objects.create(user=user, tenant=tenant_a, role="viewer")
    membership = services.invitation_accept(invitation=invitation, user=user)
    assert membership.role == "viewer"
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert [e.payload["user_id"] for e in events_of(tenant_a, "invitation.accepted")] == [user.pk]
    assert events_of(tenant_a, "member.joined") == []


# --- Second factors ----------------------------------------------------------------------------


def test_a_closed_enrolment_or_someone_elses_factor_is_refused(owner_a, owner_b):
    theirs = TOTPDevice.objects.create(user=owner_b, name="theirs", key="ab" * 20, confirmed=False)
    with pytest.raises(ValidationError, match="This enrolment is no longer open. Start again."):
        mfa.totp_enrol_confirm(request=None, user=owner_a, device=theirs, code="123456")
    email = EmailDevice.objects.create(user=owner_a, name="mail", confirmed=True)
    with pytest.raises(ValidationError, match="This set-up is no longer open. Start again."):
        mfa.message_factor_confirm(request=None, user=owner_a, device=email, code="123456")
    with pytest.raises(ValidationError, match="This factor is not yours."):
        mfa.factor_remove(request=None, user=owner_a, device=theirs)
    with pytest.raises(ValidationError, match="Unknown kind of factor."):
        mfa.message_factor_start(user=owner_a, kind="pigeon")
    assert TOTPDevice.objects.filter(pk=theirs.pk, confirmed=False).exists()


def test_a_blank_code_is_a_failed_check_and_audited(tenant_a, owner_a):
    TOTPDevice.objects.create(user=owner_a, name="app", key="ab" * 20, confirmed=True)
    assert mfa.mfa_verify(request=None, user=owner_a, code="   ") is None
    assert LogEntry.objects.filter(additional_data__event="mfa.verify_failed", object_pk=str(owner_a.pk)).exists()


def test_a_wrong_emailed_code_does_not_confirm_the_factor(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    client.post("/security/codes/email/")
    response = client.post("/security/codes/email/", {"code": "000000"})
    assert response.status_code == 400
    assert response.context["code_form"].errors["code"] == ["That code is not right or has expired."]
    assert not EmailDevice.objects.get(user=owner_a).confirmed


def test_a_tenant_policy_is_read_for_that_tenant_only(tenant_a, tenant_b, owner_a):
    MembershipFactory(tenant=tenant_b, user=owner_a, role="member")
    mfa.mfa_policy_set(request=None, tenant=tenant_b, required=True)
    assert mfa.mfa_required_for(user=owner_a, tenant=tenant_a) is False
    assert mfa.mfa_required_for(user=owner_a, tenant=tenant_b) is True
    assert mfa.mfa_required_for(user=owner_a) is True  # any of the user's tenants


def test_saving_the_same_mfa_policy_again_is_not_audited_twice(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    set_mfa_state(client, mfa.VERIFIED)  # the owner has a factor: the new policy lets them through
    for _ in range(2):
        response = client.post("/settings/security/", {"form": "policy", "mfa_required": "on"})
        assert response["Location"] == "/settings/security/"
    with tenant_context(tenant_a):
        assert LogEntry.objects.filter(additional_data__event="mfa.policy_changed").count() == 1


def test_removing_one_of_two_factors_keeps_the_recovery_codes_and_the_session_verified(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    enrol_totp(client)
    codes = RecoveryCodeDevice.objects.get(user=owner_a)
    email = EmailDevice.objects.create(user=owner_a, name="mail", confirmed=True)
    set_mfa_state(client, mfa.VERIFIED)
    client.post(f"/security/factors/email/{email.pk}/remove/")
    assert not EmailDevice.objects.filter(pk=email.pk).exists()
    assert RecoveryCodeDevice.objects.filter(pk=codes.pk).exists()
    assert client.session[mfa.MFA_STATE_KEY] == mfa.VERIFIED


def test_an_abandoned_enrolment_is_removed_without_an_audit_entry(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    client.get("/security/authenticator/")  # started, never confirmed
    pending = TOTPDevice.objects.get(user=owner_a, confirmed=False)
    client.post(f"/security/factors/totp/{pending.pk}/remove/")
    assert not TOTPDevice.objects.filter(pk=pending.pk).exists()
    with tenant_context(tenant_a):
        assert not LogEntry.objects.filter(additional_data__event="mfa.factor_removed").exists()


def test_numbers_with_a_00_prefix_are_taken_in_international_form():
    from apps.identity.sms import normalise_number

    assert normalise_number("0044 (7700) 900-123") == "+447700900123"
    with pytest.raises(ValidationError):
        normalise_number("07700 900123")  # national form: the country is unknown


def test_a_code_is_refused_when_none_was_sent(owner_a):
    device = EmailDevice.objects.create(user=owner_a, name="mail", confirmed=True)
    assert device.verify_token("123456") is False


def test_a_factor_confirmed_without_a_request_returns_the_first_recovery_codes(owner_a):
    from tests.identity.test_mfa import current_code

    device = mfa.totp_enrol_start(user=owner_a)
    codes = mfa.totp_enrol_confirm(request=None, user=owner_a, device=device, code=current_code(device))
    assert len(codes) == mfa.RECOVERY_CODE_COUNT
    assert RecoveryCodeDevice.objects.get(user=owner_a).remaining() == mfa.RECOVERY_CODE_COUNT
