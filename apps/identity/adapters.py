from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib import messages
from django.shortcuts import redirect

from apps.tenancy.emails import email_brand, email_message, email_subject

from . import entry, lockout, mfa
from .audit import audit_event, client_ip
from .models import User


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up happens on the public site only (apps.identity.forms.OrganisationSignupForm: an
    email link first, then the account and its organisation).

    Log-in adds: the account and IP address lock-outs, audit of failures, refusal of password log-in where
    the tenant makes SSO mandatory, and the second-factor stage."""

    def is_open_for_signup(self, request):
        tenant = getattr(request, "tenant", None)
        return tenant is None or tenant.is_public

    # --- emails: in the organisation's name (or the platform's), with an HTML part -------------

    @staticmethod
    def _tenant():
        return getattr(allauth_context.request, "tenant", None)

    def send_mail(self, template_prefix, email, context):
        # allauth's emails call the site by its host ("localhost:8000"): call it by its name instead.
        request = allauth_context.request
        site = SimpleNamespace(name=email_brand(self._tenant())["name"], domain=request.get_host() if request else "")
        super().send_mail(template_prefix, email, {"current_site": site, **context})

    def format_email_subject(self, subject):
        return email_subject(str(subject), self._tenant())

    def render_mail(self, template_prefix, email, context, headers=None):
        message = super().render_mail(template_prefix, email, context, headers=headers)
        return email_message(
            subject=message.subject,
            to=message.to,
            text=message.body,
            tenant=self._tenant(),
            headers=headers,
            from_email=message.from_email,
        )

    # --- log-in ---------------------------------------------------------------------------

    def get_login_stages(self):
        return [*super().get_login_stages(), "apps.identity.stages.SecondFactorStage"]

    @staticmethod
    def _login_email(credentials) -> str:
        return (credentials.get("email") or credentials.get("username") or "").strip().lower()

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth's per-account limit ("login_failed" per key) counts the email alone, not per site:
        # one count for every tenant host.
        return self._login_email(credentials)

    def pre_authenticate(self, request, **credentials):
        from django.core.exceptions import ValidationError

        email = self._login_email(credentials)
        if entry.sso_login_required(tenant=getattr(request, "tenant", None), email=email):
            raise ValidationError(
                "Your organisation requires single sign-on for this address. Use “Log in with single sign-on”."
            )
        super().pre_authenticate(request, **credentials)
        try:
            request.hub_login_attempt = lockout.attempt_begin(email=email, ip=client_ip(request))
        except lockout.Locked as locked:
            minutes = max(1, round(locked.seconds / 60))
            raise ValidationError(
                f"Too many failed log-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
            ) from None

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        attempt = getattr(request, "hub_login_attempt", None)
        if user is not None and attempt is not None:
            lockout.attempt_succeeded(attempt)
        return user

    def authentication_failed(self, request, **credentials):
        email = self._login_email(credentials)
        known = User.objects.filter(email__iexact=email).first() if email else None
        audit_event(request=request, event="login.failed", user=known, email=email)
        attempt = getattr(request, "hub_login_attempt", None)
        if attempt is not None and attempt.lock_seconds:
            audit_event(request=request, event="login.locked", user=known, email=email, seconds=attempt.lock_seconds)

    def pre_login(self, request, user, **kwargs):
        # Password and emailed-code log-ins on a tenant's host: its policy may want its IdP instead.
        if getattr(request, "hub_sso_login", False):
            state = mfa.SSO
        else:
            state = mfa.VERIFIED if getattr(request, "hub_mfa_device", None) is not None else mfa.NONE
        if entry.tenant_entry(tenant=getattr(request, "tenant", None), user=user, state=state) == entry.SSO_LOGIN:
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            messages.error(request, "Your organisation requires single sign-on for this address.")
            return redirect("sso_login")
        return super().pre_login(request, user, **kwargs)
