"""Emails in the organisation's colours: every email the hub sends (its own and allauth's) has a text
part and an HTML part drawn in core/email/base.html with the organisation's name and logo, or the
platform's name when no organisation is involved (the public site)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import Tenant
from .services import public_url, tenant_url


def email_brand(tenant: Tenant | None) -> dict:
    """Who an email comes from: the organisation (name, logo) or, without one, the platform."""
    platform = settings.HUB_PLATFORM_NAME
    if tenant is None or tenant.is_public:
        return {"name": platform, "logo_url": "", "platform_name": platform, "home_url": public_url("/")}
    logo_url = tenant_url(tenant, "/settings/logo/") if tenant.logo else ""
    return {"name": tenant.name, "logo_url": logo_url, "platform_name": platform, "home_url": tenant_url(tenant, "/")}


def email_subject(subject: str, tenant: Tenant | None) -> str:
    """The subject with the organisation's (or the platform's) name in front."""
    return f"[{email_brand(tenant)['name']}] {subject}"


def email_message(
    *,
    subject: str,
    to: list[str],
    text: str,
    tenant: Tenant | None = None,
    html_template: str = "core/email/text.html",
    context: dict | None = None,
    headers: dict | None = None,
    from_email: str | None = None,
) -> EmailMultiAlternatives:
    """A message with the text part given and an HTML part from html_template (by default the same
    text, links clickable) inside the branded layout; the caller sends it."""
    brand = email_brand(tenant)
    html = render_to_string(html_template, {**(context or {}), "brand": brand, "subject": subject, "text": text})
    message = EmailMultiAlternatives(subject=subject, body=text, to=to, headers=headers, from_email=from_email)
    message.attach_alternative(html, "text/html")
    return message
