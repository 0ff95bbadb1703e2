"""Who may do what: a scoped credential (an API key) must carry the endpoint's scope, and the
caller's role in the tenant (for a key, the role of the member who created it) must grant the
endpoint's permission.

The role rules belong to apps.identity: the authentication class puts the caller's membership on
the request (apps.core.api.authentication), and the membership says what its role allows
(`membership.allows(permission)`). So this module needs no app above core.
"""

from rest_framework import exceptions, permissions

from . import scopes
from .authentication import Credential


class HubPermission(permissions.BasePermission):
    """Views declare `api_scope` (a scope registered as an ApiScope) and `read_permission` /
    `write_permission` (permissions registered as Permission items), or override
    `required_permission(request)`."""

    def has_permission(self, request, view):
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # DRF answers 401 with WWW-Authenticate
        http = request._request  # attributes read through DRF's Request proxy cost ~10x more
        if getattr(view, http.method.lower(), None) is None:
            return True  # a method the endpoint lacks: DRF answers 405
        # A view whose POST only reads (a query sent as a body) sets `post_reads = True`.
        write = http.method not in permissions.SAFE_METHODS and not (
            http.method == "POST" and getattr(view, "post_reads", False)
        )
        if isinstance(request.auth, Credential):
            app = getattr(view, "api_scope", None)
            if app is None or not scopes.allows(request.auth.scopes, app, write):
                needed = f"{app}:{'write' if write else 'read'}"
                raise exceptions.PermissionDenied(f"This API key lacks the scope {needed}.")
        membership = getattr(http, "membership", None)
        if membership is None:
            raise exceptions.PermissionDenied("You are not a member of this organisation.")
        needed = view.required_permission(request) if hasattr(view, "required_permission") else None
        if needed is None:
            needed = getattr(view, "write_permission" if write else "read_permission", None)
        if needed is None:
            raise exceptions.PermissionDenied("This endpoint declares no permission.")  # deny by default
        if not membership.allows(needed):
            raise exceptions.PermissionDenied(f"Your role ({membership.role}) does not allow this.")
        return True
