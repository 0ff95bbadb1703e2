"""Adding a passkey needs a session verified by one of the user's factors (else an attacker with
the password alone could add their own). The check reads django-otp's verified device lazily
(apps.identity.middleware.LazyOTPMiddleware)."""

import base64

import pytest

from apps.identity.models import TOTPDevice
from tests.conftest import client_for
from tests.identity.test_mfa import current_code

pytestmark = pytest.mark.django_db
BEGIN = "/accounts/passkeys/registration/begin/"


def verified_with_totp(tenant, user):
    """A session that passed the second-factor step with an authenticator code."""
    device = TOTPDevice.objects.create(user=user, name="app", key="ab" * 20, confirmed=True)
    client = client_for(tenant, user)  # logged in, the factor not yet checked
    assert client.post("/accounts/2fa/", {"code": current_code(device)}).status_code == 302
    return client, device


def test_a_session_verified_by_a_factor_may_start_adding_a_passkey(tenant_a, owner_a):
    client, _ = verified_with_totp(tenant_a, owner_a)
    response = client.post(BEGIN, content_type="application/json")
    assert response.status_code == 200
    options = response.json()
    assert options["rp"]["id"] == "alpha.localhost"
    assert options["user"]["name"] == owner_a.email


def test_once_the_verifying_factor_is_gone_the_session_may_not_add_a_passkey(tenant_a, owner_a):
    client, device = verified_with_totp(tenant_a, owner_a)
    TOTPDevice.objects.create(user=owner_a, name="second app", key="cd" * 20, confirmed=True)
    device.delete()  # e.g. removed from another session
    response = client.post(BEGIN, content_type="application/json")
    assert response.status_code == 403
    assert "verif" in response.json()["detail"].lower()


def test_a_user_without_a_factor_may_add_a_first_passkey(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).post(BEGIN, content_type="application/json")
    assert response.status_code == 200


def test_a_logged_in_user_is_offered_only_their_own_passkeys(tenant_a, owner_a, owner_b):
    from django_otp_webauthn.models import WebAuthnCredential

    mine = WebAuthnCredential.objects.create(
        user=owner_a, name="", confirmed=True, credential_id=b"mine", public_key=b"k", sign_count=0
    )
    WebAuthnCredential.objects.create(
        user=owner_b, name="", confirmed=True, credential_id=b"theirs", public_key=b"k", sign_count=0
    )
    client, _ = verified_with_totp(tenant_a, owner_a)
    response = client.post("/accounts/passkeys/authentication/begin/", content_type="application/json")
    assert response.status_code == 200
    offered = [credential["id"] for credential in response.json().get("allowCredentials", [])]
    assert offered == [base64.urlsafe_b64encode(mine.credential_id).decode().rstrip("=")]
