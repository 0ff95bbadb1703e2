"""SecurityPolicyMiddleware: what a logged-in session may reach before its second factor, and
the tenant's log-in policy for sessions that did not pass one of its entry checks
(apps/identity/entry.py).

- A session whose user has a factor that was not checked ("pending", e.g. after a hand-over)
  reaches only the verification page and log-out.
- A session without a checked factor ("none") is held to the tenant's policy on every request:
  where SSO is mandatory for its email it is logged out and sent to the SSO page; on a tenant
  that requires MFA, a member reaches only the Security page (to enrol) and log-out, until a
  factor is confirmed. So does a session marked as needing a factor (mfa.session_require_factor:
  a security response asked for it), whatever the tenant's policy.
The rule is second_factor_step(), which the websocket applies too.
It also refreshes the session's last activity for the Sessions page (at most once a minute).

Cost on a warm request: reads from the already-loaded session; the tenant policy (one cached
read) only for sessions without a checked factor.
"""

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware

from . import entry, mfa, sessions
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
        if step == entry.VERIFY:
            verify = reverse("mfa_verify")
            if path != verify:
                return redirect(f"{verify}?next={path}")
        elif step == entry.SSO_LOGIN:
            logout(request)
            messages.info(request, "Your organisation signs in through its identity provider.")
            return redirect(entry.entry_path(step))
        elif step == entry.ENROL and not path.startswith(reverse("security")):
            return redirect(entry.entry_path(step))
        return None


def second_factor_step(*, session, user, tenant) -> str | None:
    """What the session must do before it reaches anything on `tenant` (None: nothing):
    entry.VERIFY when its user has a factor that was not checked in this session (on any host),
    else the tenant's verdict for a session without a checked factor (entry.tenant_entry).
    Pages redirect to the step (SecurityPolicyMiddleware), the API answers 403, the websocket
    refuses the connection (apps.notifications.consumers)."""
    state = session.get(mfa.MFA_STATE_KEY)
    if state is None:
        state = mfa.PENDING if mfa.user_has_factor(user=user) else mfa.NONE
        session[mfa.MFA_STATE_KEY] = state
    if state == mfa.PENDING:
        return entry.VERIFY
    if state == mfa.NONE:
        if session.get(mfa.FACTOR_REQUIRED_KEY):
            return entry.ENROL
        return entry.tenant_entry(tenant=tenant, user=user, state=state)
    return None


def socket_membership(*, session, user, tenant):
    """The membership in `tenant` of a websocket's session, or None when it may not reach the
    tenant's pages: not signed in, not a member, or the second-factor step unmet (as for HTTP).
    The dashboard's /ws/ and GraphQL's /graphql/ websocket admit a session by it."""
    if user is None or not user.is_authenticated or session is None:
        return None
    membership = membership_get(user=user, tenant=tenant)
    if membership is None or second_factor_step(session=session, user=user, tenant=tenant) is not None:
        return None
    return membership


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
