"""SecurityPolicyMiddleware: what a logged-in session may reach before its second factor.

- A session whose user has a factor that was not checked ("pending", e.g. after a hand-over)
  reaches only the verification page and log-out.
- On a tenant that requires MFA, a member without a factor reaches only the Security page
  (to enrol) and log-out, until a factor is confirmed.
The rule is second_factor_step(), which the websocket applies too.
It also refreshes the session's last activity for the Sessions page (at most once a minute).

Cost on a warm request: reads from the already-loaded session; the tenant policy (one cached
read) only for sessions without a factor.
"""

from django.shortcuts import redirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware

from . import mfa, sessions
from .selectors import membership_get

ALWAYS_OPEN = ("/static/", "/accounts/logout/", "/saml2/")


class SecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            response = self._check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request, user):
        path = request.path_info
        if path.startswith(ALWAYS_OPEN):
            return None
        sessions.session_touch(request=request)
        step = second_factor_step(session=request.session, user=user, tenant=getattr(request, "tenant", None))
        if step == VERIFY:
            verify = reverse("mfa_verify")
            if path != verify:
                return redirect(f"{verify}?next={path}")
        elif step == ENROL:
            security = reverse("security")
            if not path.startswith(security):
                return redirect(security)
        return None


VERIFY, ENROL = "verify", "enrol"


def second_factor_step(*, session, user, tenant) -> str | None:
    """What the session must do before it reaches anything on `tenant` (None: nothing).
    VERIFY: its user has a factor that was not checked in this session. ENROL: the tenant requires
    a second factor and this member has none (only the tenant's members are held to its policy;
    others get its 403 pages). Pages redirect to the step (SecurityPolicyMiddleware), the API
    answers 403, the websocket refuses the connection (apps.notifications.consumers)."""
    state = session.get(mfa.MFA_STATE_KEY)
    if state is None:
        state = mfa.PENDING if mfa.user_has_factor(user=user) else mfa.NONE
        session[mfa.MFA_STATE_KEY] = state
    if state == mfa.PENDING:
        return VERIFY
    if (
        state == mfa.NONE
        and tenant is not None
        and not tenant.is_public
        and mfa.tenant_security_get(tenant=tenant).mfa_required
        and membership_get(user=user, tenant=tenant) is not None
    ):
        return ENROL
    return None


class LazyOTPMiddleware(OTPMiddleware):
    """django-otp's OTPMiddleware, but the verifying device is loaded from the database only when
    something asks `request.user.is_verified()`, not on every request (one query less per
    authenticated request). `user.otp_device` is filled by that first call."""

    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)
        if user.is_authenticated and request.session.get(DEVICE_ID_SESSION_KEY):
            loaded = []

            def is_verified():
                if not loaded:
                    loaded.append(True)
                    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
                    device = self._device_from_persistent_id(persistent_id) if persistent_id else None
                    user.otp_device = self._finalize_device(request, user, device)
                return user.otp_device is not None

            user.is_verified = is_verified
        return user
