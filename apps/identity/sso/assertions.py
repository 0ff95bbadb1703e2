"""Receiving assertions: the authentication backend djangosaml2 calls once it has verified a
response, and the page shown when one is refused."""

import logging

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import render

from ..audit import audit_event
from ..mfa import shared_cache, tenant_security_get
from ..models import Membership, User
from .config import sp_base_url, tenant_of

logger = logging.getLogger(__name__)


class SSOError(PermissionDenied):
    pass


def _email_from(session_info: dict) -> str:
    ava = session_info.get("ava") or {}
    for attr in ("email", "mail", "emailAddress", "urn:oid:0.9.2342.19200300.100.1.3"):
        if ava.get(attr):
            return str(ava[attr][0]).strip().lower()
    name_id = session_info.get("name_id")
    text = getattr(name_id, "text", "") or ""
    return text.strip().lower() if "@" in text else ""


def sso_user_for_assertion(*, request, session_info: dict, assertion_info: dict | None) -> User:
    """The user an accepted assertion names: created just in time, joined to the tenant."""
    tenant = tenant_of(request)
    policy = tenant_security_get(tenant=tenant)
    if not policy.sso_enabled:
        raise SSOError("Single sign-on is not turned on for this organisation.")
    assertion_id = (assertion_info or {}).get("assertion_id")
    if not assertion_id:
        raise SSOError("The identity provider's answer carries no assertion ID.")
    # Each assertion works once: remember its ID for longer than it could be valid.
    if not shared_cache().add(f"identity:saml-assertion:{tenant.pk}:{assertion_id}", 1, timeout=24 * 3600):
        raise SSOError("This sign-in answer was already used (a replay). Start the log-in again.")
    email = _email_from(session_info)
    if not email:
        raise SSOError("The identity provider did not send an email address.")
    if email.rsplit("@", 1)[1] not in policy.sso_domains:
        raise SSOError(f"{email} is not in an email domain this organisation signs in through its IdP.")
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            from allauth.account.models import EmailAddress

            user = User.objects.create_user(email=email, password=None)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            Membership.objects.create(user=user, tenant=tenant, role=policy.sso_default_role)
        elif not Membership.objects.filter(user=user, tenant=tenant).exists():
            # An account that exists outside this organisation is not handed to its IdP (the
            # hub does not verify who owns an email domain): it joins by invitation first.
            raise SSOError(
                f"An account for {email} already exists. Log in with it and ask an admin of this "
                "organisation to invite you; after that, single sign-on works for it."
            )
        if not user.is_active:
            raise SSOError("This account is disabled.")
    request.hub_sso_login = True
    return user


class TenantSAMLBackend(ModelBackend):
    """Authenticates the user of an assertion djangosaml2 has verified (see sso_user_for_assertion)."""

    def authenticate(self, request, session_info=None, assertion_info=None, **kwargs):
        if request is None or session_info is None:
            return None
        try:
            return sso_user_for_assertion(request=request, session_info=session_info, assertion_info=assertion_info)
        except SSOError as exc:
            request.hub_sso_error = str(exc)
            audit_event(
                request=request,
                event="login.failed",
                user=None,
                email=_email_from(session_info),
                method="sso",
                reason=str(exc),
            )
            raise PermissionDenied(str(exc)) from None


def _reason(exception) -> str:
    from saml2.response import IncorrectlySigned, SignatureError, StatusError, UnsolicitedResponse
    from saml2.validate import ResponseLifetimeExceed, ToEarly

    name = exception.__class__.__name__ if exception is not None else ""
    text = str(exception or "")
    if isinstance(exception, ResponseLifetimeExceed) or "NotOnOrAfter" in text or "expired" in text.lower():
        return "The sign-in answer from your identity provider has expired. Start the log-in again."
    if isinstance(exception, ToEarly):
        return "The sign-in answer from your identity provider is not valid yet. Check the clocks and try again."
    if isinstance(exception, (SignatureError, IncorrectlySigned)) or "sign" in text.lower():
        return "The sign-in answer is not signed by your organisation's identity provider, so it was refused."
    if "audience" in text.lower() or name == "AudienceRestrictionError":
        return "The sign-in answer was meant for another service (wrong audience), so it was refused."
    if isinstance(exception, UnsolicitedResponse):
        return "This sign-in answer does not match a log-in started here."
    if isinstance(exception, StatusError):
        return "Your identity provider did not log you in."
    return ""


def _condition_reason(request) -> str:
    """pysaml2 reports failed conditions as one "Condition not OK": tell expiry from audience."""
    import base64
    from datetime import UTC, datetime

    from defusedxml.ElementTree import fromstring

    ns = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
    try:
        root = fromstring(base64.b64decode(request.POST.get("SAMLResponse", "")))
    except Exception:  # noqa: BLE001 - undecodable input: no finer reason to give
        return ""
    conditions = root.find(".//saml:Assertion/saml:Conditions", ns)
    if conditions is None:
        return ""
    not_after = conditions.get("NotOnOrAfter")
    if not_after and datetime.fromisoformat(not_after.replace("Z", "+00:00")) <= datetime.now(UTC):
        return "The sign-in answer from your identity provider has expired. Start the log-in again."
    audiences = {a.text for a in conditions.findall(".//saml:Audience", ns)}
    expected = f"{sp_base_url(request)}/saml2/metadata/"
    if audiences and expected not in audiences:
        return "The sign-in answer was meant for another service (wrong audience), so it was refused."
    return ""


def acs_failure(request, exception=None, status=403, **kwargs):
    """The page shown when an assertion is refused: says why, offers to start again. Audited."""
    message = getattr(request, "hub_sso_error", "") or _condition_reason(request) or _reason(exception)
    if not message:
        logger.info("SAML response refused: %r", exception)
        message = "The sign-in answer from your identity provider was refused."
    if not getattr(request, "hub_sso_error", ""):
        audit_event(request=request, event="login.failed", user=None, method="sso", reason=message)
    return render(request, "identity/sso_error.html", {"message": message}, status=status)
