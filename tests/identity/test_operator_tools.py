"""What platform operators use on accounts: the demo seed, key rotation when a key is missing,
the admin's bulk removal of lost factors, and the account manager's rules."""

from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.identity.models import Membership, RecoveryCode, TOTPDevice, User
from apps.identity.services import invitation_create
from apps.tenancy.models import Tenant
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def seed():
    out, err = StringIO(), StringIO()
    call_command("seed_demo", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_seed_demo_creates_the_demo_once_and_prints_how_to_log_in(_session_tenants):
    out, err = seed()
    assert "Seeded the demo organisation." in out
    assert "http://demo.localhost:8000/" in out
    assert "owner@demo.localhost" in out and "demo-password-2026" in out
    assert "admin@localhost / admin-password-2026" in out
    assert err == ""
    demo = Tenant.objects.get(slug="demo")
    owner = Membership.objects.get(tenant=demo, role="owner").user
    assert owner.email == "owner@demo.localhost" and owner.full_name == "Demo Owner"
    assert owner.check_password("demo-password-2026")
    operator = User.objects.get(email="admin@localhost")
    assert operator.is_staff and operator.is_superuser

    again, _ = seed()
    assert "Seeded" not in again
    assert "owner@demo.localhost" in again
    assert Tenant.objects.filter(slug="demo").count() == 1
    assert User.objects.filter(email="admin@localhost").count() == 1


def test_seed_demo_says_what_to_do_when_the_demo_lost_its_owner(_session_tenants):
    seed()
    Membership.objects.filter(tenant__slug="demo").delete()
    _, err = seed()
    assert "The demo organisation has no owner; run `delete_tenant demo --yes` and seed again." in err


def test_rotating_keys_without_the_old_key_fails_in_one_line_and_changes_nothing(owner_a, settings):
    from cryptography.fernet import Fernet

    from apps.core import crypto

    TOTPDevice.objects.create(user=owner_a, name="app", key="ab" * 20)
    old = list(settings.HUB_FIELD_ENCRYPTION_KEYS)
    try:
        settings.HUB_FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key was dropped too soon
        crypto._fernet.cache_clear()
        with pytest.raises(CommandError, match="encrypted with a key that is no longer configured"):
            call_command("rotate_mfa_keys")
    finally:
        settings.HUB_FIELD_ENCRYPTION_KEYS = old
        crypto._fernet.cache_clear()
    assert TOTPDevice.objects.get(user=owner_a).key == "ab" * 20


def test_rotating_keys_reports_how_many_were_re_encrypted(owner_a):
    def said(count):
        keys = "1 authenticator key" if count == 1 else f"{count} authenticator keys"
        return f"Re-encrypted {keys} with the newest key."

    out = StringIO()
    call_command("rotate_mfa_keys", stdout=out)
    had = TOTPDevice.objects.count()  # tests before may have committed some
    assert out.getvalue().strip() == said(had)
    TOTPDevice.objects.create(user=owner_a, name="app", key="ab" * 20)
    call_command("rotate_mfa_keys", stdout=out)
    assert said(had + 1) in out.getvalue()


def test_no_encryption_key_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    from apps.core import crypto

    old = settings.HUB_FIELD_ENCRYPTION_KEYS
    try:
        settings.HUB_FIELD_ENCRYPTION_KEYS = []
        crypto._fernet.cache_clear()
        with pytest.raises(ImproperlyConfigured, match="HUB_FIELD_ENCRYPTION_KEYS must hold at least one Fernet key"):
            crypto.encrypt("secret")
    finally:
        settings.HUB_FIELD_ENCRYPTION_KEYS = old
        crypto._fernet.cache_clear()


def test_an_operator_removes_lost_factors_in_bulk_and_it_is_audited(tenant_a, owner_a):
    staff = UserFactory(is_staff=True, is_superuser=True)
    devices = [
        TOTPDevice.objects.create(user=owner_a, name=f"phone {i}", key="ab" * 20, confirmed=True) for i in (1, 2)
    ]
    response = client_for(None, staff).post(
        "/admin/identity/totpdevice/",
        {"action": "delete_selected", "_selected_action": [d.pk for d in devices], "post": "yes"},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=owner_a).exists()
    removed = LogEntry.objects.filter(additional_data__event="mfa.factor_removed", object_pk=str(owner_a.pk))
    assert removed.count() == 2
    assert {e.additional_data["by"] for e in removed} == {"operator"}


def test_the_admin_names_invitations_and_recovery_codes_readably(tenant_a, owner_a):
    from apps.identity import mfa

    actor = Membership.objects.get(tenant=tenant_a, user=owner_a)
    invitation, _ = invitation_create(actor=actor, email="guest@example.com", role="viewer")
    assert str(invitation) == "guest@example.com → Alpha Ltd (viewer)"
    mfa.recovery_codes_generate(request=None, user=owner_a, audit=False)
    code = RecoveryCode.objects.filter(device__user=owner_a).first()
    assert str(code) == f"recovery code of {owner_a.pk} (unused)"
    staff = UserFactory(is_staff=True, is_superuser=True)
    page = client_for(None, staff).get(f"/admin/identity/invitation/{invitation.pk}/change/")
    assert b"guest@example.com" in page.content


def test_accounts_need_an_email_and_operators_are_staff():
    with pytest.raises(ValueError, match="An email address is required."):
        User.objects.create_user(email="", password="x-pass-12345")
    operator = User.objects.create_superuser(email="Ops@Example.com", password="x-pass-12345")
    assert operator.email == "ops@example.com"
    assert operator.is_staff and operator.is_superuser
    assert operator.get_short_name() == "ops@example.com"
