"""apps.core.api and the way each app's API is mounted: the base classes take their rate limits and
idempotency from the slots apps.api fills, each app owns its scopes, and the apps mounted at the
root of /api/v1/ resolve with no extra level."""

import pytest
from django.test import override_settings
from django.urls import URLPattern, re_path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.core.api.views import HubAPIView
from apps.core.registry import registry
from tests.conftest import client_for
from tests.factories import MembershipFactory


class Ping(HubAPIView):
    api_scope = "tenancy"
    read_permission = write_permission = "tenant.view"
    throttle_classes = []  # no rate limit: the document must not announce one

    @extend_schema(summary="Ping", request=None, responses={201: None})
    def post(self, request, version=None):
        return Response(status=201)


def _ping_operation() -> dict:
    patterns = [re_path(r"^api/(?P<version>v[0-9]+)/ping/$", Ping.as_view())]
    schema = SchemaGenerator(patterns=patterns, api_version="v1").get_schema(request=None, public=True)
    return schema["paths"]["/api/v1/ping/"]["post"]


def test_the_document_declares_what_the_slots_do():
    operation = _ping_operation()
    assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
    assert "409" in operation["responses"]
    # Without a throttle: no 429 and no rate-limit headers.
    assert "429" not in operation["responses"]
    assert "RateLimit" not in operation["responses"]["201"].get("headers", {})


def test_without_an_idempotency_hook_a_post_declares_no_key():
    with override_settings(HUB_API_IDEMPOTENCY_CLASS=""):
        operation = _ping_operation()
    assert "Idempotency-Key" not in {p["name"] for p in operation.get("parameters", [])}
    assert "409" not in operation["responses"]


def test_apps_mounted_at_the_root_of_v1_add_no_resolution_level():
    from apps.api.urls import v1

    names = {pattern.name for pattern in v1 if isinstance(pattern, URLPattern)}
    # tenancy's, identity's and apps.api's own endpoints sit in the v1 list itself.
    assert {"tenant", "member-list", "invitation-list", "audit-entry-list", "api-key-list", "usage"} <= names


def test_each_app_registers_the_scopes_of_its_own_endpoints():
    owners = {"tenancy": "tenancy", "identity": "identity", "audit": "identity", "api": "api"}
    assert {scope: registry.app_of("api_scopes", scope) for scope in owners} == owners


@pytest.mark.django_db
def test_a_session_members_role_is_checked_through_the_membership(tenant_a):
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    client = client_for(tenant_a, viewer.user)
    assert client.get("/api/v1/tenant/").status_code == 200
    response = client.patch("/api/v1/tenant/", {"name": "Renamed"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role (viewer) does not allow this."
