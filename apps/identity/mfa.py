"""Second factors (django-otp devices) and the tenant MFA policy: enrolment, verification,
recovery codes, removal. Views and the log-in stage call these; they hold the rules.

Session state, set at log-in (apps/identity/signals.py) and read by SecurityPolicyMiddleware:
    hub_mfa = "verified"       a factor was checked in this session (django-otp's device is set too)
              "sso"            logged in through the tenant's identity provider (it owns MFA)
              "pending"        the user has a factor that was not checked yet (e.g. a hand-over)
              "none"           the user had no factor at log-in
"""

import secrets

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django_otp import login as otp_login
from django_otp_webauthn.models import WebAuthnCredential

from apps.tenancy.emails import email_message, email_subject
from apps.tenancy.models import Tenant

from .audit import audit_event
from .models import (
    EmailDevice,
    Membership,
    RecoveryCode,
    RecoveryCodeDevice,
    SMSDevice,
    TenantSecurity,
    TOTPDevice,
    User,
    hash_code,
)
from .sms import normalise_number, sms_send

MFA_STATE_KEY = "hub_mfa"
VERIFIED, SSO, PENDING, NONE = "verified", "sso", "pending", "none"
# Set on one session (by session_require_factor): it must check, or first add, a second factor
# before it reaches anything, whatever the tenant's policy (a security response asked for it).
FACTOR_REQUIRED_KEY = "hub_mfa_required"
FACTOR_MODELS = (TOTPDevice, EmailDevice, SMSDevice, WebAuthnCredential)
KIND_MODELS = {"totp": TOTPDevice, "email": EmailDevice, "sms": SMSDevice, "passkey": WebAuthnCredential}


def kind_of(device) -> str:
    """totp, email, sms, passkey or recovery."""
    return getattr(device, "kind", None) or "passkey"


def created_of(device):
    return getattr(device, "created", None) or getattr(device, "created_at", None)


RECOVERY_CODE_COUNT = 10


# --- Reads -------------------------------------------------------------------------------------


def factor_list(*, user: User) -> list:
    """The user's confirmed factors (not counting recovery codes), oldest first."""
    devices = []
    for model in FACTOR_MODELS:
        devices.extend(model.objects.filter(user=user, confirmed=True))
    return sorted(devices, key=lambda d: created_of(d) or 0)


def user_has_factor(*, user: User) -> bool:
    return any(model.objects.filter(user=user, confirmed=True).exists() for model in FACTOR_MODELS)


def recovery_device_get(*, user: User) -> RecoveryCodeDevice | None:
    return RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()


def device_for_user(*, user: User, kind: str, pk: int):
    model = KIND_MODELS.get(kind)
    if model is None:
        return None
    return model.objects.filter(user=user, pk=pk).first()


def shared_cache():
    """A cache without the tenant prefix (the sessions' cache): a tenant's policy and log-in locks
    must read the same from every host."""
    return caches[settings.SESSION_CACHE_ALIAS]


def _policy_cache_key(tenant_id: int) -> str:
    return f"identity:security:{tenant_id}"


def tenant_security_get(*, tenant: Tenant) -> TenantSecurity:
    """The tenant's policy (an unsaved default when never set). Cached; saved through services."""
    key = _policy_cache_key(tenant.pk)
    policy = shared_cache().get(key)
    if policy is None:
        policy = TenantSecurity.objects.filter(tenant=tenant).first() or TenantSecurity(tenant=tenant)
        shared_cache().set(key, policy, timeout=300)
    return policy


def tenant_security_forget(*, tenant: Tenant) -> None:
    shared_cache().delete(_policy_cache_key(tenant.pk))


def mfa_required_for(*, user: User, tenant: Tenant | None = None) -> bool:
    """Whether a tenant (or, without one, any tenant the user belongs to) requires MFA."""
    if tenant is not None:
        return tenant_security_get(tenant=tenant).mfa_required
    tenant_ids = Membership.objects.filter(user=user).values_list("tenant_id", flat=True)
    return TenantSecurity.objects.filter(tenant_id__in=tenant_ids, mfa_required=True).exists()


# --- Writes ------------------------------------------------------------------------------------


def session_require_factor(*, session) -> None:
    """This session may reach nothing until its user checks a second factor (adding one first if
    they have none): SecurityPolicyMiddleware sends it to the Security page to enrol."""
    session[FACTOR_REQUIRED_KEY] = True


def mark_verified(*, request, device) -> None:
    """Records in the session that `device` verified the logged-in user."""
    otp_login(request, device)
    request.session[MFA_STATE_KEY] = VERIFIED


def totp_enrol_start(*, user: User) -> TOTPDevice:
    """A fresh, unconfirmed authenticator key (an earlier unfinished enrolment is dropped)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", key=secrets.token_hex(20), confirmed=False)


def _added(*, request, user: User, device) -> list[str] | None:
    """After a first factor: audit, mark the session verified, and issue recovery codes if none."""
    audit_event(request=request, event="mfa.factor_added", user=user, factor=kind_of(device), device=device.name)
    if request is not None and getattr(request, "user", None) == user:
        mark_verified(request=request, device=device)
    if recovery_device_get(user=user) is None:
        return recovery_codes_generate(request=request, user=user, audit=False)
    return None


def totp_enrol_confirm(*, request, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Activates the authenticator after its first valid code. Returns new recovery codes, if any."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError({"code": ["This enrolment is no longer open. Start again."]})
    if not device.verify_token(code):
        raise ValidationError({"code": ["That code is not right. Check the time on your phone and try again."]})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return _added(request=request, user=user, device=device)


def recovery_codes_generate(*, request, user: User, audit: bool = True) -> list[str]:
    """Replaces the user's recovery codes with ten new ones; returns them (shown once)."""
    codes = [
        f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODE_COUNT)
    ]
    with transaction.atomic():
        RecoveryCodeDevice.objects.filter(user=user).delete()
        device = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
        RecoveryCode.objects.bulk_create([RecoveryCode(device=device, code_hash=hash_code(c)) for c in codes])
    if audit:
        audit_event(request=request, event="mfa.recovery_codes_regenerated", user=user)
    return codes


def message_factor_start(*, user: User, kind: str, number: str = "") -> EmailDevice | SMSDevice:
    """Starts adding codes by email or SMS: an unconfirmed device and a first code sent to it."""
    if kind == "email":
        EmailDevice.objects.filter(user=user, confirmed=False).delete()
        if EmailDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError("Codes by email are already on.")
        device = EmailDevice.objects.create(user=user, name=f"Email to {user.email}", confirmed=False)
    elif kind == "sms":
        number = normalise_number(number)
        SMSDevice.objects.filter(user=user, confirmed=False).delete()
        device = SMSDevice.objects.create(
            user=user, name=f"Text messages to …{number[-3:]}", number=number, confirmed=False
        )
    else:
        raise ValidationError("Unknown kind of factor.")
    code_send(device=device)
    return device


def code_send(*, device: EmailDevice | SMSDevice) -> str:
    """Sends a new code to a factor of codes by email or text message (at most every
    RESEND_AFTER_SECONDS: ValidationError before; SMSError when the provider refuses). Returns
    what to tell the user."""
    code = device.new_code()
    if isinstance(device, SMSDevice):
        sms_send(to=device.number, body=f"Your ReactDjango-Hub code is {code}")
        return f"We sent a code to {device.masked_number}."
    context = {"code": code, "minutes": device.CODE_VALID_SECONDS // 60}
    email_message(
        subject=email_subject("Your log-in code", None),
        to=[device.user.email],
        text=render_to_string("identity/email/mfa_code.txt", context),
    ).send()
    return "We sent a code to your email address."


def message_factor_confirm(*, request, user: User, device, code: str) -> list[str] | None:
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError({"code": ["This set-up is no longer open. Start again."]})
    if not device.verify_token(code):
        raise ValidationError({"code": ["That code is not right or has expired."]})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return _added(request=request, user=user, device=device)


def factor_remove(*, request, user: User, device, tenant: Tenant | None = None) -> None:
    """Removes a factor. The last one cannot go while a tenant of the user requires MFA."""
    if device.user_id != user.pk:
        raise ValidationError("This factor is not yours.")
    with transaction.atomic():
        others = [d for d in factor_list(user=user) if not (type(d) is type(device) and d.pk == device.pk)]
        if device.confirmed and not others and mfa_required_for(user=user, tenant=None):
            raise ValidationError(
                "This is your last second factor and your organisation requires one. "
                "Add another factor before removing this one."
            )
        device.delete()
        if device.confirmed and not others:
            RecoveryCodeDevice.objects.filter(user=user).delete()
    if device.confirmed:
        audit_event(request=request, event="mfa.factor_removed", user=user, factor=kind_of(device), device=device.name)
    if request is not None and not others and request.session.get(MFA_STATE_KEY) == VERIFIED:
        request.session[MFA_STATE_KEY] = NONE


CODE_KINDS = ("totp", "email", "sms")


def code_methods(*, user: User) -> list[str]:
    """The kinds of typed code the user has a factor for ("totp", "email", "sms"), preferred first."""
    return [kind for kind in CODE_KINDS if KIND_MODELS[kind].objects.filter(user=user, confirmed=True).exists()]


def code_shape(code: str) -> str:
    """ "recovery" for a recovery code (twelve hex digits, dashes and spaces aside), "digits" for a
    six-digit code (an authenticator's, an email's or a text message's), else ""."""
    compact = "".join((code or "").split()).replace("-", "").lower()
    if len(compact) == 12 and all(c in "0123456789abcdef" for c in compact):
        return "recovery"
    if len(compact) == 6 and compact.isdigit():
        return "digits"
    return ""


def mfa_verify(*, request, user: User, code: str, method: str = ""):
    """Checks a code against the one factor it is meant for, and no other (each factor's throttle
    counts only its own failures): a recovery code, by its shape, against the recovery codes; a
    six-digit code against `method` (the user's choice: "totp", or "email"/"sms" after asking for
    a code that way), by default the first of code_methods(). Returns the device that accepted it,
    or None (audited)."""
    code = (code or "").strip()
    device = None
    shape = code_shape(code)
    if shape == "recovery":
        device = recovery_device_get(user=user)
    elif shape == "digits":
        methods = code_methods(user=user)
        chosen = method if method in methods else (methods[0] if methods else "")
        if chosen:
            device = KIND_MODELS[chosen].objects.filter(user=user, confirmed=True).first()
    if device is not None:
        with transaction.atomic():
            locked = type(device).objects.select_for_update().get(pk=device.pk)
            if locked.verify_token(code):
                return locked
    audit_event(request=request, event="mfa.verify_failed", user=user)
    return None


def mfa_policy_set(*, request, tenant: Tenant, required: bool) -> TenantSecurity:
    policy, _ = TenantSecurity.objects.get_or_create(tenant=tenant)
    if policy.mfa_required != required:
        policy.mfa_required = required
        policy.save(update_fields=["mfa_required", "updated"])
        audit_event(request=request, event="mfa.policy_changed", user=None, email="", mfa_required=required)
    tenant_security_forget(tenant=tenant)
    return policy


def totp_issuer() -> str:
    return getattr(settings, "OTP_TOTP_ISSUER", "ReactDjango-Hub")
