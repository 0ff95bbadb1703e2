"""The analytics project key (`phc_…`, write-only and safe in a browser) as a credential for the
evaluation endpoints: it may evaluate flags, nothing else."""

from dataclasses import dataclass

from django.db import connection
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.analytics import keys
from apps.core.api.authentication import Credential
from apps.core.api.permissions import HubPermission


@dataclass
class ProjectKeyCredential(Credential):
    entry: keys.KeyEntry

    @property
    def scopes(self) -> tuple:
        return ("flags:read",)

    @property
    def principal(self) -> str:
        return f"project-key:{self.entry.id}"


class ProjectKeyUser:
    """Who calls with a project key: no member of the organisation, only its key."""

    pk = id = None
    is_authenticated = True
    is_anonymous = False
    is_staff = is_superuser = is_active = False


def project_key_of(raw, *, schema: str | None = None, cached_only: bool = False) -> keys.KeyEntry | None:
    """The active project key `raw` of `schema` (by default the current one), or None."""
    if not isinstance(raw, str) or not raw.startswith("phc_"):
        return None
    return keys.key_find(schema or connection.schema_name, raw, cached_only=cached_only)


class ProjectKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer phc_…`, or `api_key`/`token` in the JSON body."""

    def authenticate(self, request):
        http = request._request
        scheme, _, raw = http.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        raw = raw.strip() if scheme.lower() == "bearer" else ""
        if not raw.startswith("phc_"):
            data = request.data if isinstance(request.data, dict) else {}
            raw = data.get("api_key") or data.get("token") or ""
            if not isinstance(raw, str) or not raw.startswith("phc_"):
                return None
        entry = project_key_of(raw)
        if entry is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked project key.")
        http.membership = None
        return ProjectKeyUser(), ProjectKeyCredential(entry)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class EvaluatePermission(HubPermission):
    """A project key may evaluate; anyone else as HubPermission says."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ProjectKeyCredential) or request._request.method == "OPTIONS":
            return True  # a key that may evaluate; a CORS preflight (no key; answers only CORS headers)
        return super().has_permission(request, view)


class ProjectKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.flags.api.auth.ProjectKeyAuthentication"
    name = "projectKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "phc_<prefix>_<secret>",
            "description": "The analytics project key (safe in a browser): evaluates flags, nothing else. "
            "It may also come as api_key in the JSON body.",
        }
