"""Saving a tenant's SSO settings."""

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.tenancy.models import Tenant

from ..audit import audit_event
from ..mfa import tenant_security_forget
from ..models import TenantSecurity
from .metadata import idp_entity_id_from_metadata, metadata_fetch


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
