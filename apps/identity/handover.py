"""Carrying a log-in from one host to another without sharing a cookie between tenants.

Cookies are per host, so after sign-up on the public site (or a switch between tenants) the user
is sent to the target host with a signed token that works once, within a minute, and only there.
"""

import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from apps.tenancy.models import Tenant
from apps.tenancy.services import tenant_url

SALT = "hub.identity.handover"


def handover_url(*, user, tenant: Tenant, next_path: str = "/", mfa_verified: bool = False) -> str:
    """`mfa_verified`: the sending session already checked a second factor, so the receiving one
    need not ask again (otherwise a user with a factor is asked for it on arrival)."""
    data = {"u": user.pk, "t": tenant.pk, "n": secrets.token_urlsafe(16), "p": next_path, "m": bool(mfa_verified)}
    token = signing.dumps(data, salt=SALT)
    return tenant_url(tenant, f"/accounts/handover/{token}/")


def handover_redeem(*, token: str, tenant: Tenant):
    """Returns (user_id, next_path) if the token is valid for this tenant and unused, else None.
    (handover_mfa_verified(token=...) tells whether the sender had checked a second factor.)"""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.HUB_HANDOVER_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if data.get("t") != tenant.pk:
        return None
    # cache.add is atomic: only the first redemption of a nonce succeeds.
    if not cache.add(f"handover:{data['n']}", 1, timeout=settings.HUB_HANDOVER_MAX_AGE_SECONDS * 2):
        return None
    next_path = data.get("p") or "/"
    if not next_path.startswith("/") or next_path.startswith("//"):
        next_path = "/"
    return data["u"], next_path


def handover_mfa_verified(*, token: str) -> bool:
    try:
        return bool(signing.loads(token, salt=SALT).get("m"))
    except signing.BadSignature:
        return False
