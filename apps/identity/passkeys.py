"""WebAuthn passkeys (django-otp-webauthn): a second factor, and a passwordless log-in.

Each tenant host is its own relying party (RP ID = the host name the browser sees), so a passkey
made on acme.example.com works there and nowhere else — like the session cookie. The ceremony
views are django-otp-webauthn's, with two hub rules added:
- registration is audited, counts as the user's first factor (recovery codes are issued), and
  marks the session verified;
- a successful assertion finishes a pending allauth log-in (the second-factor stage), verifies a
  pending session, or — with nobody logged in — logs the user in without a password (the passkey
  is possession plus the authenticator's user verification), unless the tenant's policy refuses
  it (apps/identity/entry.py: SSO mandatory for the user's email).
"""

from django.conf import settings
from django.contrib.auth import login as auth_login
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from . import entry, mfa
from .audit import audit_event

BACKEND = "django_otp_webauthn.backends.WebAuthnBackend"
NEW_CODES_KEY = "hub_new_recovery_codes"


def rp_id(request) -> str:
    return request.get_host().rsplit(":", 1)[0]


def rp_name(request) -> str:
    tenant = getattr(request, "tenant", None)
    return tenant.name if tenant is not None and not tenant.is_public else "ReactDjango-Hub"


class HubWebAuthnHelper(WebAuthnHelper):
    def get_allowed_origins(self) -> list[str]:
        return [f"{settings.HUB_SCHEME}://{self.request.get_host()}"]


class SSORequired(exceptions.OTPWebAuthnApiError):
    status_code = 403
    code = "sso_required"
    default_detail = "Your organisation requires single sign-on for this address."


class RegistrationCompleteView(CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        had_factor = mfa.user_has_factor(user=self.request.user)
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            user = self.request.user
            audit_event(request=self.request, event="mfa.factor_added", user=user, factor="passkey")
            self.request.session[mfa.MFA_STATE_KEY] = mfa.VERIFIED
            if not had_factor and mfa.recovery_device_get(user=user) is None:
                codes = mfa.recovery_codes_generate(request=self.request, user=user, audit=False)
                self.request.session[NEW_CODES_KEY] = codes
                self.request.session["hub_codes_unseen"] = True
        return response


def _pending_stage(request):
    from allauth.account.stages import LoginStageController

    from .stages import SecondFactorStage

    return LoginStageController.enter(request, SecondFactorStage.key)


class PendingLoginUserMixin:
    """During the second-factor step the user is known but not logged in yet: offer and accept
    only that user's passkeys (so non-discoverable security keys work too)."""

    def get_user(self):
        if self.request.user.is_authenticated:
            return self.request.user
        stage = _pending_stage(self.request)
        return stage.login.user if stage is not None else None


class AuthenticationBeginView(PendingLoginUserMixin, BeginCredentialAuthenticationView):
    pass


class AuthenticationCompleteView(PendingLoginUserMixin, CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        request = self.request
        stage = _pending_stage(request)
        if stage is not None and stage.login.user is not None and stage.login.user.pk == device.user_id:
            request.hub_mfa_device = device
            self._stage_response = stage.exit()
            return
        if request.user.is_authenticated:
            if device.user_id != request.user.pk:
                raise exceptions.CredentialNotFound()
            mfa.mark_verified(request=request, device=device)
            return
        tenant = getattr(request, "tenant", None)
        if entry.tenant_entry(tenant=tenant, user=device.user, state=mfa.VERIFIED) == entry.SSO_LOGIN:
            raise SSORequired()
        request.hub_mfa_device = device
        request.hub_passwordless = True
        auth_login(request, device.user, backend=BACKEND)

    def get_success_data(self, device):
        data = super().get_success_data(device)
        stage_response = getattr(self, "_stage_response", None)
        if stage_response is not None and stage_response.has_header("Location"):
            data["redirect_url"] = stage_response["Location"]
        return data
