"""GET /api/v1/search/?q=…: the command palette's answer, for the dashboards' session only.

    {"query": "bo", "groups": [{"key": "members", "label": "Members",
      "results": [{"title": "Bob Stone", "description": "bob@acme.test · Admin", "url": "/members/?q=…"}]}]}

Not part of the integrator API (left out of the OpenAPI document): its results are addresses
of dashboard pages, and what it finds is limited by the member's role, not by a key's scopes.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response

from apps.core import search

from .authentication import Credential
from .permissions import HubPermission
from .views import HubAPIView


class SessionOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        if isinstance(request.auth, Credential):
            raise exceptions.PermissionDenied("Search belongs to the dashboards: API keys cannot use it.")
        return True


class SearchView(HubAPIView):
    permission_classes = [SessionOnly, HubPermission]
    read_permission = ""  # every member; each provider's own permission is checked per member

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        query = request.query_params.get("q", "")
        if len(query) > search.MAX_QUERY_LENGTH:
            raise exceptions.ValidationError({"q": [f"Search for at most {search.MAX_QUERY_LENGTH} characters."]})
        http = request._request
        groups = search.search(query=query, tenant=http.tenant, user=request.user, membership=http.membership)
        return Response(
            {
                "query": query,
                "groups": [
                    {
                        "key": g.key,
                        "label": g.label,
                        "results": [{"title": r.title, "description": r.description, "url": r.url} for r in g.results],
                    }
                    for g in groups
                ],
            }
        )
