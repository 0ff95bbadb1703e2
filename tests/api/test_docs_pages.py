"""The API reference pages follow the hub's theme, and the schema they show names the tenant's own host."""

import pytest

from tests.conftest import client_for


@pytest.mark.django_db
def test_served_schema_points_at_the_organisations_own_host(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        schema = client_for(tenant).get("/api/v1/schema/").json()
        assert schema["servers"] == [{"url": f"http://{tenant.slug}.localhost", "description": tenant.name}]
        assert list(schema)[:3] == ["openapi", "info", "servers"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/developers/docs/", "/developers/redoc/"])
def test_reference_pages_load_the_theme_and_offer_its_toggle(tenant_a, owner_a, path):
    html = client_for(tenant_a, owner_a).get(path).content.decode()
    assert html.index("/static/hub/theme.js") < html.index("<body")  # applied before the page paints
    assert "/static/api/docs-theme.js" in html and "data-theme-toggle" in html
