"""SAML 2.0 single sign-on per tenant (djangosaml2 + pysaml2).

Each tenant is its own service provider: entity ID and metadata at
`<tenant address>/saml2/metadata/`, assertions received at `<tenant address>/saml2/acs/`. The
SP configuration is built per request from the tenant's TenantSecurity row
(settings.SAML_CONFIG_LOADER = "apps.identity.sso.saml_config_for_request").

Accepted: a response whose assertion is signed by the IdP of the tenant's metadata, for this
tenant's audience, within its validity window, not seen before (assertion IDs are remembered
until they expire), naming an email of one of the tenant's SSO domains. The user is created on
first log-in ("just in time") and joins the tenant with its default role; an account that already
exists must already be a member (the hub does not verify who owns an email domain, so an IdP may
not take over an account made elsewhere).
"""

import logging

import requests
import saml2
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

from apps.tenancy.models import Tenant

from .audit import audit_event
from .mfa import shared_cache, tenant_security_forget, tenant_security_get
from .models import Membership, TenantSecurity, User

logger = logging.getLogger(__name__)

XMLSEC_BINARY = "/usr/bin/xmlsec1"


def sp_base_url(request) -> str:
    return f"{settings.HUB_SCHEME}://{request.get_host()}"


def _tenant_of(request) -> Tenant:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public:
        raise Http404
    return tenant


def sp_config_dict(*, base_url: str, tenant: Tenant, idp_metadata_xml: str) -> dict:
    config = {
        "entityid": f"{base_url}/saml2/metadata/",
        "xmlsec_binary": getattr(settings, "SAML_XMLSEC_BINARY", XMLSEC_BINARY),
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": tenant.name,
                "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
                "endpoints": {
                    "assertion_consumer_service": [(f"{base_url}/saml2/acs/", saml2.BINDING_HTTP_POST)],
                },
                # Responses are also accepted without a matching request in this browser's saml
                # cookie (IdP-initiated log-in, and SameSite rules drop that cookie on plain
                # HTTP); replay is stopped by the assertion-ID check instead.
                "allow_unsolicited": True,
                "authn_requests_signed": False,
                "want_assertions_signed": True,
                "want_response_signed": False,
            }
        },
        "accepted_time_diff": 60,
    }
    if idp_metadata_xml:
        config["metadata"] = {"inline": [idp_metadata_xml]}
    return config


def saml_config_for_request(request) -> SPConfig:
    tenant = _tenant_of(request)
    policy = tenant_security_get(tenant=tenant)
    if not policy.sso_enabled or not policy.idp_metadata_xml:
        # The SP metadata is served either way, so an admin can register the SP before enabling it.
        if not request.path_info.startswith("/saml2/metadata/"):
            raise Http404("Single sign-on is not set up for this organisation.")
    conf = SPConfig()
    conf.load(sp_config_dict(base_url=sp_base_url(request), tenant=tenant, idp_metadata_xml=policy.idp_metadata_xml))
    return conf


def idp_entity_id_from_metadata(xml: str) -> str:
    """The entity ID of the (single) IdP in `xml`; ValidationError naming the field if unusable."""
    from saml2.mdstore import InMemoryMetaData
    from saml2.sigver import security_context

    try:
        conf = SPConfig()
        conf.load({"entityid": "urn:hub:check", "xmlsec_binary": XMLSEC_BINARY})
        md = InMemoryMetaData(conf.attribute_converters, security_context(conf), entity_id="x")
        md.parse(xml)
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds on bad XML
        raise ValidationError(
            {"idp_metadata_xml": [f"This is not SAML metadata ({exc.__class__.__name__})."]}
        ) from None
    idps = [eid for eid, ent in md.items() if "idpsso_descriptor" in ent]
    if len(idps) != 1:
        raise ValidationError({"idp_metadata_xml": ["The metadata must describe exactly one identity provider."]})
    return idps[0]


def _refuse_internal_address(url: str) -> None:
    """Metadata URLs are fetched by the server: never from loopback, private or link-local
    addresses (cloud metadata services, the hub's own services), unless
    HUB_SSO_METADATA_ALLOW_PRIVATE is on (tests, on-premises IdPs)."""
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError({"idp_metadata_url": ["Give an http(s) address."]})
    if getattr(settings, "HUB_SSO_METADATA_ALLOW_PRIVATE", False):
        return
    if parts.scheme != "https":
        raise ValidationError({"idp_metadata_url": ["The metadata address must use https."]})
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        raise ValidationError({"idp_metadata_url": [f"{parts.hostname} cannot be resolved."]}) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ValidationError({"idp_metadata_url": ["This address points inside a private network."]})


def metadata_fetch(url: str) -> str:
    _refuse_internal_address(url)
    try:
        response = requests.get(url, timeout=10, allow_redirects=False)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise ValidationError(
            {"idp_metadata_url": [f"The metadata could not be fetched ({exc.__class__.__name__})."]}
        ) from None
    return response.text


def _clean_domains(raw) -> list[str]:
    items = raw if isinstance(raw, list) else str(raw or "").replace(";", ",").split(",")
    domains = []
    for item in items:
        domain = item.strip().lower().lstrip("@")
        if not domain:
            continue
        if "." not in domain or " " in domain or "/" in domain:
            raise ValidationError({"sso_domains": [f"“{domain}” is not a domain name."]})
        domains.append(domain)
    return sorted(set(domains))


def sso_settings_update(
    *,
    request,
    tenant: Tenant,
    sso_enabled: bool,
    idp_metadata_url: str,
    idp_metadata_xml: str,
    sso_domains,
    sso_enforced: bool,
    sso_default_role: str,
) -> TenantSecurity:
    """Saves the tenant's SSO settings (metadata from the URL when given, else the XML)."""
    domains = _clean_domains(sso_domains)
    xml = (idp_metadata_xml or "").strip()
    if idp_metadata_url:
        xml = metadata_fetch(idp_metadata_url)
    entity_id = idp_entity_id_from_metadata(xml) if xml else ""
    if sso_enabled and not xml:
        raise ValidationError({"idp_metadata_xml": ["Give the IdP metadata (URL or XML) to turn SSO on."]})
    if sso_enabled and not domains:
        raise ValidationError({"sso_domains": ["Name at least one email domain whose users log in through the IdP."]})
    if sso_default_role == "owner":
        raise ValidationError({"sso_default_role": ["New users cannot become owners automatically."]})
    with transaction.atomic():
        policy, _ = TenantSecurity.objects.select_for_update().get_or_create(tenant=tenant)
        before = {
            f: getattr(policy, f)
            for f in (
                "sso_enabled",
                "idp_entity_id",
                "sso_domains",
                "sso_enforced",
                "sso_default_role",
                "idp_metadata_url",
            )
        }
        policy.sso_enabled = sso_enabled
        policy.idp_metadata_url = idp_metadata_url or ""
        policy.idp_metadata_xml = xml
        policy.idp_entity_id = entity_id
        policy.sso_domains = domains
        policy.sso_enforced = sso_enforced and sso_enabled
        policy.sso_default_role = sso_default_role
        policy.save()
        after = {f: getattr(policy, f) for f in before}
    tenant_security_forget(tenant=tenant)
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    audit_event(request=request, event="sso.settings_changed", user=None, changes=changes, metadata_changed=True)
    return policy


# --- Receiving assertions ------------------------------------------------------------------------


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
    tenant = _tenant_of(request)
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
