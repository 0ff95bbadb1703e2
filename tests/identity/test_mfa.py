"""Second factors: enrolment, log-in with a factor, recovery codes, codes by email, removal,
secrets at rest, and the tenant's MFA policy."""

import re
import time

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.db import connection
from django_otp.oath import TOTP, totp
from django_tenants.utils import schema_context

from apps.identity import mfa
from apps.identity.models import RecoveryCode, TOTPDevice, hash_code
from tests.conftest import PASSWORD, client_for, set_mfa_state
from tests.factories import MembershipFactory


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def enrol_totp(client) -> TOTPDevice:
    page = client.get("/security/authenticator/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(confirmed=False, user__email=page.wsgi_request.user.email)
    response = client.post("/security/authenticator/", {"code": current_code(device)})
    assert response.status_code == 302, response.content
    device.refresh_from_db()
    return device


def log_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def events(tenant, name):
    with schema_context(tenant.schema_name):
        return list(LogEntry.objects.filter(additional_data__event=name).order_by("timestamp"))


@pytest.mark.django_db
def test_totp_enrolment_shows_a_qr_code_and_activates_only_after_a_valid_code(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    page = client.get("/security/authenticator/")
    assert b"data:image/svg+xml" in page.content
    device = TOTPDevice.objects.get(user=owner_a)
    assert device.confirmed is False
    assert not mfa.user_has_factor(user=owner_a)

    wrong = client.post("/security/authenticator/", {"code": "000000"})
    assert wrong.status_code == 400
    assert b"not right" in wrong.content
    device.refresh_from_db()
    assert device.confirmed is False

    device.throttle_reset()
    response = client.post("/security/authenticator/", {"code": current_code(device)})
    assert response["Location"] == "/security/recovery-codes/"
    device.refresh_from_db()
    assert device.confirmed is True
    codes_page = client.get("/security/recovery-codes/")
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>", codes_page.content.decode())
    assert len(codes) == 10
    download = client.get("/security/recovery-codes/download/")
    assert download["Content-Disposition"].startswith("attachment")
    assert codes[0] in download.content.decode()
    client.post("/security/recovery-codes/done/")
    # Shown once: afterwards neither the page nor the download has them.
    assert client.get("/security/recovery-codes/")["Location"] == "/security/"
    assert client.get("/security/recovery-codes/download/").status_code == 404
    assert [e.additional_data["factor"] for e in events(tenant_a, "mfa.factor_added")] == ["totp"]


@pytest.mark.django_db
def test_secrets_are_not_stored_in_plain_text(tenant_a, owner_a):
    device = TOTPDevice.objects.create(user=owner_a, name="x", key="ab" * 20)
    codes = mfa.recovery_codes_generate(request=None, user=owner_a, audit=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM identity_totpdevice WHERE id = %s", [device.pk])
        stored = cursor.fetchone()[0]
        cursor.execute("SELECT code_hash FROM identity_recoverycode")
        hashes = {row[0] for row in cursor.fetchall()}
    assert "ab" * 20 not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert not set(codes) & hashes
    assert hash_code(codes[0]) in hashes


@pytest.mark.django_db
def test_totp_key_survives_a_key_rotation(tenant_a, owner_a, settings):
    from cryptography.fernet import Fernet

    from apps.core import crypto

    device = TOTPDevice.objects.create(user=owner_a, name="x", key="cd" * 20)
    old = list(settings.HUB_FIELD_ENCRYPTION_KEYS)
    settings.HUB_FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old]
    crypto._fernet.cache_clear()
    try:
        device = TOTPDevice.objects.get(pk=device.pk)
        device.save()  # re-encrypted with the new key
        settings.HUB_FIELD_ENCRYPTION_KEYS = settings.HUB_FIELD_ENCRYPTION_KEYS[:1]
        crypto._fernet.cache_clear()
        assert TOTPDevice.objects.get(pk=device.pk).key == "cd" * 20
    finally:
        settings.HUB_FIELD_ENCRYPTION_KEYS = old
        crypto._fernet.cache_clear()


@pytest.mark.django_db
def test_password_login_with_a_factor_asks_for_the_code_before_logging_in(tenant_a, owner_a):
    device = enrol_totp(client_for(tenant_a, owner_a))
    device.last_t = -1
    device.save()
    client = client_for(tenant_a)
    response = log_in(client, owner_a.email)
    assert response["Location"] == "/accounts/2fa/"
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith("/accounts/login/")

    bad = client.post("/accounts/2fa/", {"code": "123456"})
    assert bad.status_code == 400
    assert "_auth_user_id" not in client.session
    device.refresh_from_db()
    device.throttle_reset()
    ok = client.post("/accounts/2fa/", {"code": current_code(device)})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    assert client.session[mfa.MFA_STATE_KEY] == mfa.VERIFIED
    login = events(tenant_a, "login")[-1]
    assert login.additional_data["method"] == "password+totp"
    assert events(tenant_a, "mfa.verify_failed")


@pytest.mark.django_db
def test_a_totp_code_works_once(tenant_a, owner_a):
    device = enrol_totp(client_for(tenant_a, owner_a))
    # The enrolment consumed the current time step: the same code is refused now.
    assert device.verify_token(current_code(device)) is False


@pytest.mark.django_db
def test_a_recovery_code_logs_in_once(tenant_a, owner_a):
    enrol_totp(client_for(tenant_a, owner_a))
    codes = mfa.recovery_codes_generate(request=None, user=owner_a, audit=False)
    client = client_for(tenant_a)
    log_in(client, owner_a.email)
    assert client.post("/accounts/2fa/", {"code": codes[3].upper()}).status_code == 302
    assert client.get("/").status_code == 200
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1

    again = client_for(tenant_a)
    log_in(again, owner_a.email)
    assert again.post("/accounts/2fa/", {"code": codes[3]}).status_code == 400


@pytest.mark.django_db
def test_codes_by_email_enrol_and_log_in(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    client.post("/security/codes/email/")
    code = re.search(r"code is (\d{6})", mail.outbox[-1].body).group(1)
    assert client.post("/security/codes/email/", {"code": code})["Location"] == "/security/recovery-codes/"

    fresh = client_for(tenant_a)
    log_in(fresh, owner_a.email)
    page = fresh.get("/accounts/2fa/")
    assert b"Email me a code" in page.content
    fresh.post("/accounts/2fa/", {"send": "email"})
    code = re.search(r"code is (\d{6})", mail.outbox[-1].body).group(1)
    assert fresh.post("/accounts/2fa/", {"code": code}).status_code == 302
    assert fresh.get("/").status_code == 200


@pytest.mark.django_db
def test_last_factor_cannot_be_removed_while_the_tenant_requires_mfa(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    device = enrol_totp(client)
    mfa.mfa_policy_set(request=None, tenant=tenant_a, required=True)
    response = client.post(f"/security/factors/totp/{device.pk}/remove/", follow=True)
    assert "your organisation requires one" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()

    mfa.mfa_policy_set(request=None, tenant=tenant_a, required=False)
    client.post(f"/security/factors/totp/{device.pk}/remove/")
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert [e.additional_data["factor"] for e in events(tenant_a, "mfa.factor_removed")] == ["totp"]


@pytest.mark.django_db
def test_someone_elses_factor_cannot_be_removed(tenant_a, owner_a, owner_b):
    device = TOTPDevice.objects.create(user=owner_b, name="theirs", key="ef" * 20)
    response = client_for(tenant_a, owner_a).post(f"/security/factors/totp/{device.pk}/remove/")
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


@pytest.mark.django_db
def test_tenant_policy_sends_members_without_a_factor_to_enrolment(tenant_a, owner_a):
    member = MembershipFactory(tenant=tenant_a, role="member").user
    owner = client_for(tenant_a, owner_a)
    response = owner.post("/settings/security/", {"form": "policy", "mfa_required": "on"})
    assert response.status_code == 302
    assert events(tenant_a, "mfa.policy_changed")

    client = client_for(tenant_a, member)
    for path in ("/", "/members/", "/profile/", "/settings/"):
        assert client.get(path)["Location"] == "/security/", path
    page = client.get("/security/")
    assert b"requires a second factor" in page.content
    enrol_totp(client)
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_only_owners_set_the_mfa_policy(tenant_a):
    admin = MembershipFactory(tenant=tenant_a, role="admin").user
    response = client_for(tenant_a, admin).post("/settings/security/", {"form": "policy", "mfa_required": "on"})
    assert response.status_code == 403
    assert mfa.tenant_security_get(tenant=tenant_a).mfa_required is False
    member = MembershipFactory(tenant=tenant_a, role="member").user
    assert client_for(tenant_a, member).get("/settings/security/").status_code == 403


@pytest.mark.django_db
def test_policy_of_one_tenant_does_not_apply_on_another(tenant_a, tenant_b, owner_b):
    mfa.mfa_policy_set(request=None, tenant=tenant_a, required=True)
    assert client_for(tenant_b, owner_b).get("/").status_code == 200
    # And a member of alpha cannot reach beta's security settings.
    assert client_for(tenant_a, owner_b).get("/settings/security/").status_code == 403


@pytest.mark.django_db
def test_a_pending_session_reaches_only_the_verification_page(tenant_a, owner_a):
    enrol_totp(client_for(tenant_a, owner_a))
    client = client_for(tenant_a, owner_a)  # force_login: no second factor checked
    assert client.get("/members/")["Location"] == "/accounts/2fa/?next=/members/"
    assert client.get("/security/")["Location"].startswith("/accounts/2fa/")
    assert client.get("/accounts/2fa/").status_code == 200


@pytest.mark.django_db
def test_codes_are_not_sent_more_than_twice_a_minute(tenant_a, owner_a):
    from apps.identity.models import EmailDevice

    EmailDevice.objects.create(user=owner_a, name="mail", confirmed=True)
    client = client_for(tenant_a)
    log_in(client, owner_a.email)
    client.post("/accounts/2fa/", {"send": "email"})
    sent = len(mail.outbox)
    page = client.post("/accounts/2fa/", {"send": "email"}, follow=True)
    assert len(mail.outbox) == sent
    assert "Wait half a minute" in page.content.decode()


@pytest.mark.django_db
def test_a_passkey_counts_as_a_factor_and_can_be_removed(tenant_a, owner_a):
    from django_otp_webauthn.models import WebAuthnCredential

    passkey = WebAuthnCredential.objects.create(
        user=owner_a, name="", confirmed=True, credential_id=b"cred", public_key=b"key", sign_count=0
    )
    assert mfa.user_has_factor(user=owner_a)
    client = client_for(tenant_a, owner_a)
    set_mfa_state(client, mfa.VERIFIED)
    page = client.get("/security/").content.decode()
    assert "Passkey" in page and f"/security/factors/passkey/{passkey.pk}/remove/" in page
    mfa.mfa_policy_set(request=None, tenant=tenant_a, required=True)
    client.post(f"/security/factors/passkey/{passkey.pk}/remove/")
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    mfa.mfa_policy_set(request=None, tenant=tenant_a, required=False)
    client.post(f"/security/factors/passkey/{passkey.pk}/remove/")
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert events(tenant_a, "mfa.factor_removed")[-1].additional_data["factor"] == "passkey"


@pytest.mark.django_db
def test_rotate_mfa_keys_reencrypts_with_the_newest_key(tenant_a, owner_a, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from apps.core import crypto

    device = TOTPDevice.objects.create(user=owner_a, name="x", key="12" * 20)
    old = list(settings.HUB_FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    try:
        settings.HUB_FIELD_ENCRYPTION_KEYS = [new_key, *old]
        crypto._fernet.cache_clear()
        call_command("rotate_mfa_keys")
        settings.HUB_FIELD_ENCRYPTION_KEYS = [new_key]
        crypto._fernet.cache_clear()
        assert TOTPDevice.objects.get(pk=device.pk).key == "12" * 20
    finally:
        settings.HUB_FIELD_ENCRYPTION_KEYS = old
        crypto._fernet.cache_clear()


@pytest.mark.django_db
def test_the_second_factor_step_works_on_the_public_site_too(owner_a):
    device = TOTPDevice.objects.create(user=owner_a, name="app", key="ab" * 20, confirmed=True)
    client = client_for(None)
    assert log_in(client, owner_a.email)["Location"] == "/accounts/2fa/"
    assert client.post("/accounts/2fa/", {"code": current_code(device)}).status_code == 302
    assert client.session[mfa.MFA_STATE_KEY] == mfa.VERIFIED
    assert client.get("/security/").status_code == 200


def authenticator_code(device: TOTPDevice, *, steps_ahead: int = 1) -> str:
    """The code an authenticator app shows `steps_ahead` time steps from now (one ahead is accepted:
    the current step may already be used by the enrolment)."""
    app = TOTP(device.bin_key, step=device.step, digits=device.digits)
    app.time = time.time() + steps_ahead * device.step
    return f"{app.token():0{device.digits}d}"


@pytest.mark.django_db
def test_recovery_code_log_ins_leave_the_authenticator_app_usable_at_once(tenant_a, owner_a):
    device = enrol_totp(client_for(tenant_a, owner_a))
    codes = mfa.recovery_codes_generate(request=None, user=owner_a, audit=False)
    for code in codes[:4]:
        client = client_for(tenant_a)
        log_in(client, owner_a.email)
        assert client.post("/accounts/2fa/", {"code": code}).status_code == 302
        assert client.session[mfa.MFA_STATE_KEY] == mfa.VERIFIED
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    # The phone's code is accepted straight away.
    client = client_for(tenant_a)
    log_in(client, owner_a.email)
    assert client.post("/accounts/2fa/", {"code": authenticator_code(device)}).status_code == 302
    assert client.get("/").status_code == 200


def sent_code(kind, caplog) -> str:
    text = mail.outbox[-1].body if kind == "email" else caplog.text
    return re.findall(r"code is (\d{6})", text)[-1]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["email", "sms"])
def test_a_code_is_checked_only_against_the_factor_chosen(tenant_a, owner_a, kind, caplog, settings):
    from apps.identity.models import EmailDevice, SMSDevice

    settings.HUB_SMS_BACKEND = "apps.identity.sms.ConsoleSMSBackend"
    totp_device = enrol_totp(client_for(tenant_a, owner_a))
    if kind == "email":
        message_device = EmailDevice.objects.create(user=owner_a, name="mail", confirmed=True)
    else:
        message_device = SMSDevice.objects.create(user=owner_a, name="sms", number="+447700900123", confirmed=True)
    client = client_for(tenant_a)
    log_in(client, owner_a.email)
    page = client.get("/accounts/2fa/").content.decode()
    assert "code from your authenticator app" in page  # the authenticator first
    with caplog.at_level("WARNING", logger="apps.identity.sms"):
        client.post("/accounts/2fa/", {"send": kind})
    assert "Use my authenticator app" in client.get("/accounts/2fa/").content.decode()
    # A wrong code now counts against the emailed/texted code only.
    assert client.post("/accounts/2fa/", {"code": "000000"}).status_code == 400
    totp_device.refresh_from_db()
    message_device.refresh_from_db()
    assert (totp_device.throttling_failure_count, message_device.throttling_failure_count) == (0, 1)
    message_device.throttle_reset()
    assert client.post("/accounts/2fa/", {"code": sent_code(kind, caplog)}).status_code == 302
    totp_device.refresh_from_db()
    assert totp_device.throttling_failure_count == 0

    # Back to the authenticator app: its code is accepted at once.
    again = client_for(tenant_a)
    log_in(again, owner_a.email)
    with caplog.at_level("WARNING", logger="apps.identity.sms"):
        again.post("/accounts/2fa/", {"send": kind})
    again.post("/accounts/2fa/", {"use": "totp"})
    assert again.post("/accounts/2fa/", {"code": authenticator_code(totp_device)}).status_code == 302
    message_device.refresh_from_db()
    assert message_device.throttling_failure_count == 0
