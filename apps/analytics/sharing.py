"""Read-only links to a dashboard, signed with django.core.signing.

A link's token is the dashboard's id signed with SECRET_KEY, salted with the tenant's schema and
the dashboard's own `share_secret`: a changed token fails the signature, a token opened on
another tenant's host is checked with another salt (and fails), and a new secret (rotating, or
turning sharing off) makes every link given out before fail. Each failure is the same 404."""

import secrets

from django.core import signing

SALT = "hub.analytics.dashboard-share"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _signer(schema: str, secret: str) -> signing.Signer:
    return signing.Signer(salt=f"{SALT}:{schema}:{secret}")


def token_for(*, schema: str, dashboard_id: int, secret: str) -> str:
    return _signer(schema, secret).sign(str(dashboard_id))


def dashboard_id_of(token: str, *, schema: str, secret_of) -> int | None:
    """The dashboard id `token` opens in `schema`, or None. `secret_of(id)` gives a shared
    dashboard's current secret ("" or None when it does not exist or is not shared)."""
    value, sep, _ = (token or "").partition(":")
    if not sep or not value.isdigit() or len(value) > 18:
        return None
    secret = secret_of(int(value))
    if not secret:
        return None
    try:
        return int(_signer(schema, secret).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
