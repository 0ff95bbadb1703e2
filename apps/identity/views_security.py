"""Security pages: second factors, the MFA check at log-in, sessions, the tenant's log-in
policy and SSO settings. Thin: validate, call mfa/sessions/sso, render."""

import base64
from functools import partial

import segno
from allauth.account.stages import LoginStageController
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table

from . import mfa, sessions, sso
from .audit import audit_event
from .decorators import tenant_member_required
from .forms import CodeForm, MFAPolicyForm, PhoneForm, SSOSettingsForm
from .models import EmailDevice, SMSDevice, TOTPDevice, UserSession
from .roles import has_permission
from .selectors import membership_get
from .sms import SMSError
from .stages import SecondFactorStage
from .tables import SessionsTable

NEW_CODES_KEY = "hub_new_recovery_codes"
METHOD_KEY = "hub_mfa_method"  # the factor the user chose on the second-factor page


def _context(request, **extra):
    """Security pages draw inside the dashboard shell for a member, the public layout otherwise."""
    tenant = getattr(request, "tenant", None)
    membership = None
    if tenant is not None and not tenant.is_public and request.user.is_authenticated:
        membership = membership_get(user=request.user, tenant=tenant)
    return {"layout": "base.html" if membership else "public_base.html", "membership": membership, **extra}


def _safe_next(request, default="/"):
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


# --- The second factor at log-in ------------------------------------------------------------


def mfa_verify(request):
    """Asks for a code after the password (allauth stage) or for a session still pending."""
    stage = LoginStageController.enter(request, SecondFactorStage.key)
    if stage is not None:
        user = stage.login.user
    elif request.user.is_authenticated and request.session.get(mfa.MFA_STATE_KEY) == mfa.PENDING:
        user = request.user
    else:
        return redirect("account_login")
    methods = mfa.code_methods(user=user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and request.POST.get("send"):
        kind = request.POST["send"]
        model = {"email": EmailDevice, "sms": SMSDevice}.get(kind)
        device = model.objects.filter(user=user, confirmed=True).first() if model else None
        if device is not None:
            request.session[METHOD_KEY] = kind  # the next six-digit code is checked against it
            try:
                messages.info(request, mfa.code_send(device=device))
            except SMSError as exc:
                messages.error(request, str(exc))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        form = CodeForm()
    elif request.method == "POST" and request.POST.get("use") in methods:
        request.session[METHOD_KEY] = request.POST["use"]
        form = CodeForm()
    elif request.method == "POST" and form.is_valid():
        device = mfa.mfa_verify(
            request=request, user=user, code=form.cleaned_data["code"], method=request.session.get(METHOD_KEY, "")
        )
        if device is not None:
            request.session.pop(METHOD_KEY, None)
            if stage is not None:
                request.hub_mfa_device = device
                return stage.exit()
            mfa.mark_verified(request=request, device=device)
            return redirect(_safe_next(request))
        form.add_error("code", "That code is not right. Try again, or use a recovery code.")
        status = 400
    elif request.method == "POST":
        status = 400
    method = request.session.get(METHOD_KEY)
    if method not in methods:
        method = methods[0] if methods else ""
    factors = mfa.factor_list(user=user)
    context = _context(
        request,
        form=form,
        method=method,
        other_methods=[m for m in methods if m != method],
        can_passkey=any(mfa.kind_of(d) == "passkey" for d in factors),
        next=_safe_next(request),
    )
    return render(request, "identity/mfa_verify.html", context, status=status)


# --- The Security page ------------------------------------------------------------------------


@login_required
def security(request):
    user = request.user
    tenant = getattr(request, "tenant", None)
    required = tenant is not None and not tenant.is_public and mfa.tenant_security_get(tenant=tenant).mfa_required
    if request.session.pop("hub_codes_unseen", False) and request.session.get(NEW_CODES_KEY):
        # Issued by a passkey registration (a JSON call): show them now, once.
        return redirect("recovery_codes")
    recovery = mfa.recovery_device_get(user=user)
    factors = [
        {"device": d, "kind": mfa.kind_of(d), "created": mfa.created_of(d), "name": d.name or "Passkey"}
        for d in mfa.factor_list(user=user)
    ]
    context = _context(
        request,
        factors=factors,
        recovery_remaining=recovery.remaining() if recovery else None,
        mfa_required=required,
        must_enrol=request.session.get(mfa.MFA_STATE_KEY) == mfa.NONE and required,
        phone_form=PhoneForm(),
    )
    return render(request, "identity/security.html", context)


@login_required
def totp_enrol(request):
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if request.method == "GET" or device is None:
        device = mfa.totp_enrol_start(user=user)
        form = CodeForm()
        status = 200
    else:
        form = CodeForm(request.POST)
        status = 400
        confirm = partial(mfa.totp_enrol_confirm, request=request, user=user, device=device)
        done = _confirm_new_factor(request, form, confirm, "Your authenticator app is set up.")
        if done:
            return done
    url = device.config_url(issuer=mfa.totp_issuer())
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    context = _context(
        request,
        form=form,
        qr=segno.make(url, error="m").svg_data_uri(scale=5, dark="#111", light="#fff"),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        otpauth_url=url,
    )
    return render(request, "identity/totp_enrol.html", context, status=status)


def _confirm_new_factor(request, form, confirm, done_message):
    """Checks a new factor's first code with `confirm(code=…)`. On success: the recovery codes
    page if this was the first factor (confirm returned codes), else the security page. None
    when the code was refused: the form then carries the reason."""
    if not form.is_valid():
        return None
    try:
        codes = confirm(code=form.cleaned_data["code"])
    except ValidationError as exc:
        apply_errors(form, exc)
        return None
    messages.success(request, done_message)
    if codes:
        request.session[NEW_CODES_KEY] = codes
        return redirect("recovery_codes")
    return redirect("security")


@login_required
def message_factor_enrol(request, kind):
    if kind not in ("email", "sms"):
        raise Http404
    user = request.user
    model = EmailDevice if kind == "email" else SMSDevice
    device = model.objects.filter(user=user, confirmed=False).first()
    phone_form, code_form, status = PhoneForm(), CodeForm(), 200
    if request.method == "POST" and "code" in request.POST and device is not None:
        code_form = CodeForm(request.POST)
        status = 400
        confirm = partial(mfa.message_factor_confirm, request=request, user=user, device=device)
        done = _confirm_new_factor(request, code_form, confirm, f"{device.name}: set up.")
        if done:
            return done
    elif request.method == "POST":
        phone_form = PhoneForm(request.POST)
        if kind == "sms" and not phone_form.is_valid():
            status = 400
        else:
            try:
                device = mfa.message_factor_start(user=user, kind=kind, number=request.POST.get("number", ""))
            except ValidationError as exc:
                apply_errors(phone_form, exc)
                status, device = 400, None
            except SMSError as exc:
                phone_form.add_error("number", str(exc))
                status, device = 502, None
            else:
                messages.info(request, "We sent you a code. Enter it to finish.")
                return redirect("message_factor_enrol", kind=kind)
    context = _context(request, kind=kind, device=device, phone_form=phone_form, code_form=code_form)
    return render(request, "identity/message_factor_enrol.html", context, status=status)


@require_POST
@login_required
def factor_remove(request, kind, pk):
    device = mfa.device_for_user(user=request.user, kind=kind, pk=pk)
    if device is None:
        raise Http404
    try:
        mfa.factor_remove(request=request, user=request.user, device=device)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{device.name} removed.")
    return redirect("security")


@login_required
def recovery_codes(request):
    """Shows freshly issued recovery codes once (POST regenerates them)."""
    if request.method == "POST":
        if mfa.recovery_device_get(user=request.user) is None and not mfa.user_has_factor(user=request.user):
            messages.error(request, "Set up a second factor first.")
            return redirect("security")
        request.session[NEW_CODES_KEY] = mfa.recovery_codes_generate(request=request, user=request.user)
        return redirect("recovery_codes")
    codes = request.session.get(NEW_CODES_KEY)
    if not codes:
        messages.info(request, "Recovery codes are shown only once. Generate new ones if you lost them.")
        return redirect("security")
    return render(request, "identity/recovery_codes.html", _context(request, codes=codes))


@login_required
def recovery_codes_download(request):
    codes = request.session.get(NEW_CODES_KEY)
    if not codes:
        raise Http404
    body = "ReactDjango-Hub recovery codes for {}\nEach works once.\n\n{}\n".format(
        request.user.email, "\n".join(codes)
    )
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="recovery-codes.txt"'
    return response


@require_POST
@login_required
def recovery_codes_done(request):
    request.session.pop(NEW_CODES_KEY, None)
    return redirect("security")


# --- Sessions ------------------------------------------------------------------------------------


@login_required
def session_list(request):
    table = data_table(
        request,
        SessionsTable,
        sessions.session_list(user=request.user).order_by("-last_activity"),
        current_key=request.session.session_key,
    )
    return table.response or render(request, "identity/sessions.html", _context(request, table=table))


@require_POST
@login_required
def session_end(request, pk):
    row = UserSession.objects.filter(user=request.user, pk=pk).first()
    if row is None:
        raise Http404
    if row.session_key == request.session.session_key:
        messages.error(request, "To end this session, log out.")
        return redirect("session_list")
    sessions.session_end(user=request.user, session_key=row.session_key)
    audit_event(request=request, event="sessions.ended", user=request.user, count=1)
    messages.success(request, "The session was ended.")
    return redirect("session_list")


@require_POST
@login_required
def session_end_others(request):
    ended = sessions.session_end_others(user=request.user, keep_session_key=request.session.session_key)
    audit_event(request=request, event="sessions.ended", user=request.user, count=ended)
    messages.success(request, f"{ended} other session{'s' if ended != 1 else ''} ended.")
    return redirect("session_list")


# --- The tenant's log-in policy and SSO -------------------------------------------------------


@tenant_member_required("settings.change")
def security_settings(request):
    tenant = request.tenant
    policy = mfa.tenant_security_get(tenant=tenant)
    can_policy = has_permission(request.membership.role, "security.policy")
    policy_form = MFAPolicyForm(initial={"mfa_required": policy.mfa_required})
    sso_form = SSOSettingsForm(
        initial={
            "sso_enabled": policy.sso_enabled,
            "idp_metadata_url": policy.idp_metadata_url,
            "idp_metadata_xml": policy.idp_metadata_xml,
            "sso_domains": ", ".join(policy.sso_domains),
            "sso_enforced": policy.sso_enforced,
            "sso_default_role": policy.sso_default_role,
        }
    )
    status = 200
    if request.method == "POST" and request.POST.get("form") == "policy":
        if not can_policy:
            return render(request, "identity/forbidden.html", {"reason": "role"}, status=403)
        policy_form = MFAPolicyForm(request.POST)
        if policy_form.is_valid():
            mfa.mfa_policy_set(request=request, tenant=tenant, required=policy_form.cleaned_data["mfa_required"])
            messages.success(request, "Log-in policy saved.")
            return redirect("security_settings")
        status = 400
    elif request.method == "POST":
        sso_form = SSOSettingsForm(request.POST)
        status = 400
        if sso_form.is_valid():
            try:
                sso.sso_settings_update(request=request, tenant=tenant, **sso_form.cleaned_data)
            except ValidationError as exc:
                apply_errors(sso_form, exc)
            else:
                messages.success(request, "Single sign-on settings saved.")
                return redirect("security_settings")
    sp_base = sso.sp_base_url(request)
    context = {
        "policy": policy,
        "policy_form": policy_form,
        "sso_form": sso_form,
        "can_policy": can_policy,
        "sp_metadata_url": f"{sp_base}/saml2/metadata/",
        "sp_acs_url": f"{sp_base}/saml2/acs/",
    }
    return render(request, "identity/security_settings.html", context, status=status)


def sso_login(request):
    """The "Log in with single sign-on" page: starts djangosaml2's log-in when SSO is on."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public:
        raise Http404
    policy = mfa.tenant_security_get(tenant=tenant)
    return render(request, "identity/sso_login.html", {"sso_on": policy.sso_enabled, "next": _safe_next(request)})
