import pytest

from apps.tenancy.services import tenant_set_status
from tests.conftest import client_for


@pytest.mark.django_db
def test_unknown_host_gets_friendly_404(tenant_a):
    from django.test import Client

    response = Client(HTTP_HOST="nobody.localhost").get("/")
    assert response.status_code == 404
    assert b"There is no organisation here" in response.content
    assert b"nobody.localhost" in response.content


@pytest.mark.django_db
def test_unknown_host_api_gets_problem_json():
    from django.test import Client

    response = Client(HTTP_HOST="nobody.localhost").get("/api/v1/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_public_site_served_at_base_domain():
    response = client_for(None).get("/")
    assert response.status_code == 200
    assert b"Create your organisation" in response.content


@pytest.mark.django_db
def test_suspended_tenant_shows_suspended_page_and_api_problem(tenant_a, owner_a):
    tenant_set_status(tenant=tenant_a, status="suspended")
    client = client_for(tenant_a, owner_a)
    page = client.get("/")
    assert page.status_code == 403
    assert b"is suspended" in page.content
    api = client.get("/api/v1/tenant/")
    assert api.status_code == 403
    assert api["Content-Type"] == "application/problem+json"
    assert api.json()["title"] == "Forbidden"  # the reason phrase; the detail names the organisation
    assert api.json()["detail"] == f"{tenant_a.name} is suspended."

    tenant_set_status(tenant=tenant_a, status="active")
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_routing_is_cached_without_database_queries(tenant_a, owner_a, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.tenancy.routing import routes

    client = client_for(tenant_a)
    client.get("/accounts/login/")  # warm
    assert routes.tenant_for_host("alpha.localhost") is not None
    with CaptureQueriesContext(connection) as ctx:
        client.get("/accounts/login/")
    assert not [q for q in ctx.captured_queries if "tenancy_domain" in q["sql"]]


@pytest.mark.django_db
def test_renamed_tenant_is_seen_by_routing(tenant_a, owner_a):
    from apps.tenancy.services import tenant_rename

    client = client_for(tenant_a, owner_a)
    client.get("/")
    tenant_rename(tenant=tenant_a, name="Alpha Renamed")
    assert b"Alpha Renamed" in client.get("/").content


@pytest.mark.django_db
def test_security_headers_present():
    response = client_for(None).get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
