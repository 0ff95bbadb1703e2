"""The Security pages and the second-factor step when something is off: no log-in under way, a
wrong or missing code, an unsafe `next`, a failing SMS provider, a session that cannot be ended
that way, a bad SSO form. Each answer says why, and nothing is changed."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail

from apps.identity import mfa
from apps.identity.models import EmailDevice, RecoveryCodeDevice, SMSDevice, TOTPDevice, UserSession
from apps.identity.sms import SMSError
from tests.conftest import client_for, set_mfa_state
from tests.factories import MembershipFactory
from tests.identity.test_mfa import current_code, enrol_totp, log_in

pytestmark = pytest.mark.django_db


class RefusingSMSBackend:
    """An SMS provider that refuses every message (HUB_SMS_BACKEND accepts any such class)."""

    def send(self, *, to, body):
        raise SMSError("The SMS provider refused the message (400): no credit")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def pending_session(tenant, user):
    """A session logged in without its second factor checked yet (as after a hand-over)."""
    client = client_for(tenant, user)
    set_mfa_state(client, mfa.PENDING)
    return client


# --- The second-factor step ------------------------------------------------------------------


def test_the_second_factor_page_without_a_log_in_under_way_sends_to_log_in(tenant_a, owner_a):
    assert client_for(tenant_a).get("/accounts/2fa/")["Location"] == "/accounts/login/"
    # A session already verified has nothing to verify either.
    verified = client_for(tenant_a, owner_a)
    set_mfa_state(verified, mfa.VERIFIED)
    assert verified.get("/accounts/2fa/")["Location"] == "/accounts/login/"


def test_a_pending_session_is_verified_by_a_code_and_goes_to_next(tenant_a, owner_a):
    device = TOTPDevice.objects.create(user=owner_a, name="app", key="ab" * 20, confirmed=True)
    client = pending_session(tenant_a, owner_a)
    empty = client.post("/accounts/2fa/", {"code": ""})
    assert empty.status_code == 400
    assert client.session[mfa.MFA_STATE_KEY] == mfa.PENDING
    response = client.post("/accounts/2fa/?next=/members/", {"code": current_code(device)})
    assert response["Location"] == "/members/"
    assert client.session[mfa.MFA_STATE_KEY] == mfa.VERIFIED
    assert client.get("/members/").status_code == 200


def test_a_next_address_on_another_host_is_ignored(tenant_a, owner_a):
    device = TOTPDevice.objects.create(user=owner_a, name="app", key="cd" * 20, confirmed=True)
    client = pending_session(tenant_a, owner_a)
    response = client.post("/accounts/2fa/", {"code": current_code(device), "next": "https://evil.example.com/"})
    assert response["Location"] == "/"


def test_asking_for_a_code_the_user_cannot_receive_sends_nothing(tenant_a, owner_a):
    TOTPDevice.objects.create(user=owner_a, name="app", key="ef" * 20, confirmed=True)
    client = pending_session(tenant_a, owner_a)
    for kind in ("email", "sms", "carrier-pigeon"):
        response = client.post("/accounts/2fa/", {"send": kind})
        assert response.status_code == 200
        assert messages_of(response) == []
    assert mail.outbox == []


def test_a_failing_sms_provider_is_reported_on_the_second_factor_page(tenant_a, owner_a, settings):
    settings.HUB_SMS_BACKEND = f"{__name__}.RefusingSMSBackend"
    SMSDevice.objects.create(user=owner_a, name="phone", number="+447700900123", confirmed=True)
    client = pending_session(tenant_a, owner_a)
    response = client.post("/accounts/2fa/", {"send": "sms"})
    assert response.status_code == 200
    assert messages_of(response) == ["The SMS provider refused the message (400): no credit"]
    assert client.session[mfa.MFA_STATE_KEY] == mfa.PENDING


# --- Adding and removing factors ---------------------------------------------------------------


def test_a_second_factor_added_later_issues_no_new_recovery_codes(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    enrol_totp(client)
    first_codes = RecoveryCodeDevice.objects.get(user=owner_a)
    client.post("/security/recovery-codes/done/")
    client.post("/security/codes/email/")
    code = re.search(r"code is (\d{6})", mail.outbox[-1].body).group(1)
    response = client.post("/security/codes/email/", {"code": code})
    assert response["Location"] == "/security/"
    assert messages_of(response)[-1].endswith(": set up.")
    assert RecoveryCodeDevice.objects.get(user=owner_a).pk == first_codes.pk
    assert EmailDevice.objects.get(user=owner_a).confirmed


def test_codes_by_email_cannot_be_set_up_twice(tenant_a, owner_a):
    EmailDevice.objects.create(user=owner_a, name="mail", confirmed=True)
    client = client_for(tenant_a, owner_a)
    set_mfa_state(client, mfa.VERIFIED)
    response = client.post("/security/codes/email/")
    assert response.status_code == 400
    assert "Codes by email are already on." in response.content.decode()
    assert EmailDevice.objects.filter(user=owner_a).count() == 1


def test_an_unknown_kind_of_factor_is_404(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    assert client.get("/security/codes/fax/").status_code == 404
    assert client.post("/security/factors/fax/1/remove/").status_code == 404


def test_a_code_sent_without_a_set_up_under_way_starts_one(tenant_a, owner_a):
    """A code posted when no set-up is open is taken as the number form: for SMS the number is missing."""
    client = client_for(tenant_a, owner_a)
    response = client.post("/security/codes/sms/", {"code": "123456"})
    assert response.status_code == 400
    assert "number" in response.context["phone_form"].errors
    assert not SMSDevice.objects.filter(user=owner_a).exists()


def test_an_empty_code_for_a_new_factor_is_refused(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    client.get("/security/authenticator/")
    response = client.post("/security/authenticator/", {"code": ""})
    assert response.status_code == 400
    assert "code" in response.context["form"].errors
    assert not TOTPDevice.objects.get(user=owner_a).confirmed


def test_recovery_codes_are_regenerated_only_for_a_user_with_a_factor(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    refused = client.post("/security/recovery-codes/")
    assert refused["Location"] == "/security/"
    assert messages_of(refused) == ["Set up a second factor first."]
    assert not RecoveryCodeDevice.objects.filter(user=owner_a).exists()

    enrol_totp(client)
    old = set(RecoveryCodeDevice.objects.get(user=owner_a).codes.values_list("code_hash", flat=True))
    assert client.post("/security/recovery-codes/")["Location"] == "/security/recovery-codes/"
    page = client.get("/security/recovery-codes/")
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>", page.content.decode())
    assert len(codes) == 10
    new = set(RecoveryCodeDevice.objects.get(user=owner_a).codes.values_list("code_hash", flat=True))
    assert old.isdisjoint(new)


def test_codes_issued_by_a_passkey_registration_are_shown_on_the_next_visit(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    session = client.session
    session["hub_new_recovery_codes"] = ["aaaa-bbbb-cccc"]
    session["hub_codes_unseen"] = True
    session.save()
    assert client.get("/security/")["Location"] == "/security/recovery-codes/"
    assert b"aaaa-bbbb-cccc" in client.get("/security/recovery-codes/").content
    # Once seen, the Security page shows itself again.
    assert client.get("/security/").status_code == 200


# --- Sessions ------------------------------------------------------------------------------------


def test_the_current_session_is_ended_by_logging_out_not_from_the_list(tenant_a, owner_a):
    client = client_for(tenant_a)
    log_in(client, owner_a.email)
    row = UserSession.objects.get(user=owner_a, session_key=client.session.session_key)
    response = client.post(f"/security/sessions/{row.pk}/end/")
    assert response["Location"] == "/security/sessions/"
    assert messages_of(response)[-1] == "To end this session, log out."
    assert UserSession.objects.filter(pk=row.pk).exists()
    assert client.get("/").status_code == 200
    assert client.post("/security/sessions/999999/end/").status_code == 404


# --- The tenant's log-in policy and SSO settings ---------------------------------------------------


def test_an_sso_form_with_bad_values_is_shown_again_with_the_reasons(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = client.post(
        "/settings/security/",
        {"form": "sso", "sso_enabled": "on", "idp_metadata_url": "not a url", "sso_default_role": "owner"},
    )
    assert response.status_code == 400
    errors = response.context["sso_form"].errors
    assert "idp_metadata_url" in errors and "sso_default_role" in errors
    assert mfa.tenant_security_get(tenant=tenant_a).sso_enabled is False


def test_an_admin_sees_the_sso_settings_but_not_the_mfa_policy(tenant_a):
    admin = MembershipFactory(tenant=tenant_a, role="admin").user
    page = client_for(tenant_a, admin).get("/settings/security/")
    assert page.status_code == 200
    assert page.context["can_policy"] is False
    assert page.context["sp_acs_url"] == "http://alpha.localhost/saml2/acs/"


def test_the_sso_login_page_exists_only_on_a_tenant(tenant_a):
    assert client_for(None).get("/sso/login/").status_code == 404
    page = client_for(tenant_a).get("/sso/login/?next=/members/")
    assert page.status_code == 200
    assert page.context["sso_on"] is False
    assert page.context["next"] == "/members/"


def test_logging_out_without_being_logged_in_records_nothing(tenant_a):
    from auditlog.models import LogEntry
    from django_tenants.utils import tenant_context

    response = client_for(tenant_a).post("/accounts/logout/")
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert not LogEntry.objects.filter(additional_data__event="logout").exists()
