"""Who is calling: an API key (`Authorization: Bearer hub_…`) or the dashboards' session. Both
put the caller's membership on the request, which the permission check asks what its role allows
(apps.core.api.authentication says what an authentication class gives)."""

from dataclasses import dataclass

from django.utils import timezone
from rest_framework import authentication, exceptions

from apps.core.api.authentication import Credential
from apps.identity.selectors import membership_get

from .keycache import KeyEntry, cache, membership_copy, split_key
from .signals import api_key_used


@dataclass
class KeyPrincipal(Credential):
    """request.auth for a call made with an API key: its scopes, and "key:<id>" as principal."""

    entry: KeyEntry

    @property
    def id(self) -> int:
        return self.entry.id

    @property
    def scopes(self) -> tuple:
        return self.entry.scopes

    @property
    def principal(self) -> str:
        return f"key:{self.entry.id}"


def check_entry(entry: KeyEntry | None, raw: str):
    """The (user, membership) a key acts as, or AuthenticationFailed saying why not."""
    if entry is None or not entry.matches(raw):
        raise exceptions.AuthenticationFailed("This API key is not valid for this organisation.")
    if entry.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This API key was revoked.")
    if entry.expires_at is not None and entry.expires_at <= timezone.now():
        raise exceptions.AuthenticationFailed("This API key has expired.")
    membership = membership_copy(entry)
    if membership is None:
        raise exceptions.AuthenticationFailed(
            "The member who created this API key no longer belongs to the organisation."
        )
    return membership


def key_authenticate(raw: str, *, tenant, ip: str | None):
    """(KeyPrincipal, membership) of the API key `raw` on `tenant`'s domain, or AuthenticationFailed
    saying why not. For the HTTP API (ApiKeyAuthentication) and the GraphQL websocket alike."""
    raw = raw.strip()
    prefix = split_key(raw)
    if prefix is None:
        raise exceptions.AuthenticationFailed("Malformed API key: expected `Bearer hub_<prefix>_<secret>`.")
    if tenant is None or tenant.is_public:
        raise exceptions.AuthenticationFailed("API keys work on an organisation's own domain only.")
    entry = cache.get(tenant, prefix)
    membership = check_entry(entry, raw)
    if api_key_used.receivers:
        api_key_used.send(sender=tenant, key=entry, ip=ip)
    return KeyPrincipal(entry), membership


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`. A key is looked up in the schema of the tenant whose domain
    was called, so another tenant's key is simply not found (401)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request._request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        http = request._request
        principal, membership = key_authenticate(
            raw, tenant=getattr(http, "tenant", None), ip=http.META.get("REMOTE_ADDR") or None
        )
        http.membership = membership
        return membership.user, principal

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The dashboards' own calls: the logged-in session, with Django's CSRF check on writes. The
    membership is the user's in the tenant served (None for someone who is not a member)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            http = request._request
            http.membership = membership_get(user=result[0], tenant=getattr(http, "tenant", None))
        return result
