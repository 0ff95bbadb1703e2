"""Log-in and log-out bookkeeping inside identity: the session's MFA state, the Sessions page's
row, the audit log. (Derived data of this app only, as DESIGN.md allows for signals.)"""

from allauth.account.signals import password_changed, password_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from . import lockout, mfa, sessions
from .audit import audit_event


@receiver(user_logged_in, dispatch_uid="identity.on_login")
def on_login(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    device = getattr(request, "hub_mfa_device", None)
    if device is not None:
        mfa.mark_verified(request=request, device=device)
    elif getattr(request, "hub_sso_login", False):
        request.session[mfa.MFA_STATE_KEY] = mfa.SSO
    elif getattr(request, "hub_mfa_state", None) is not None:
        # A hand-over: the state it arrived with (apps.identity.entry.arrival_state).
        request.session[mfa.MFA_STATE_KEY] = request.hub_mfa_state
    else:
        request.session[mfa.MFA_STATE_KEY] = mfa.PENDING if mfa.user_has_factor(user=user) else mfa.NONE
    sessions.session_record(request=request, user=user)
    audit_event(request=request, event="login", user=user, method=_method(request))


def _method(request) -> str:
    if getattr(request, "hub_sso_login", False):
        return "sso"
    if getattr(request, "hub_mfa_device", None) is not None:
        kind = mfa.kind_of(request.hub_mfa_device)
        # A passkey used with nobody logged in yet is a passwordless log-in.
        return "passkey" if getattr(request, "hub_passwordless", False) else f"password+{kind}"
    if getattr(request, "hub_handover", False):
        return "handover"
    return "password_or_code"


@receiver(user_logged_out, dispatch_uid="identity.on_logout")
def on_logout(sender, request, user, **kwargs):
    if request is None or user is None:
        return
    sessions.session_forget(user=user, session_key=request.session.session_key)
    audit_event(request=request, event="logout", user=user)


@receiver(password_changed, dispatch_uid="identity.on_password_changed")
@receiver(password_reset, dispatch_uid="identity.on_password_reset")
def on_password_changed(sender, request, user, **kwargs):
    """A new password ends every other session of the user (the current one stays) and lifts the
    account's log-in lock."""
    lockout.account_unlock(email=user.email)
    keep = None
    if request is not None and request.user == user:
        if not request.session.session_key:
            request.session.save()
        sessions.session_rekey(request=request)
        keep = request.session.session_key
    ended = sessions.session_end_others(user=user, keep_session_key=keep)
    if ended:
        audit_event(request=request, event="sessions.ended", user=user, count=ended, reason="password changed")
