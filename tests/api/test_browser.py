"""The API pages in a real Chromium (Debian's, through Playwright) against a live server: the
Swagger UI and Redoc references render from vendored assets with no CSP violation, and an admin
creates a key on the API keys page, sees it once, and revokes it."""

import secrets

import pytest
from playwright.sync_api import expect

from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, csp_violations, live_hub, page  # noqa: F401  (fixtures)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def url(live_hub, slug, path):  # noqa: F811
    return live_hub.replace("//localhost", f"//{slug}.localhost") + path


@pytest.fixture(scope="module")
def docs_tenant(django_db_setup, django_db_blocker):
    """A tenant of its own: the page test commits keys, which the session tenants must not get."""
    slug = f"apipages-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="API Pages Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        try:
            yield tenant, owner
        finally:
            tenant_delete(tenant=tenant)


@pytest.mark.django_db  # also makes pytest-django set up the test database when this file runs alone
def test_docs_tenant_is_served_on_its_domain(docs_tenant):
    tenant, _ = docs_tenant
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost"


def test_swagger_ui_renders_the_schema_without_csp_violations(docs_tenant, live_hub, page):  # noqa: F811
    tenant, _ = docs_tenant
    page.goto(url(live_hub, tenant.slug, "/developers/docs/"))
    # The schema is fetched and laid out first: over 5 s beside a second test process and its browsers.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ReactDjango-Hub API", timeout=30_000)
    page.locator("#operations-tag-members").click()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/members/").first).to_be_visible(timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert csp_violations(page) == []


def test_redoc_renders_the_schema_without_csp_violations(docs_tenant, live_hub, page):  # noqa: F811
    tenant, _ = docs_tenant
    page.goto(url(live_hub, tenant.slug, "/developers/redoc/"))
    # Redoc lays out the whole document (~180 operations) before it shows anything: under a loaded
    # machine (two test processes with their browsers) that took longer than 20 s.
    expect(page.get_by_role("heading", name="ReactDjango-Hub API", level=1)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("List members").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    # Redoc's "API docs by Redocly" badge points at an image on cdn.redoc.ly: the CSP blocks it,
    # so the page reaches nothing outside the hub. Nothing else may be blocked.
    blocked = [line for line in csp_violations(page) if "cdn.redoc.ly" not in line]
    assert blocked == []


def test_admin_creates_sees_once_and_revokes_a_key(docs_tenant, live_hub, page):  # noqa: F811
    tenant, owner = docs_tenant
    page.goto(url(live_hub, tenant.slug, "/accounts/login/"))
    page.get_by_label("Email").fill(owner.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(url(live_hub, tenant.slug, "/"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    page.locator("#id_name").fill("Warehouse sync")
    page.get_by_role("checkbox", name="Members: view —").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("[data-secret]")
    expect(secret).to_contain_text("hub_")
    raw = secret.inner_text().strip()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    row = page.locator("#api-keys-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("Warehouse sync")
    expect(row.first).to_contain_text("Members: view")
    assert raw not in row.first.inner_text()
    page.screenshot(path="/tmp/api-keys-page.png", full_page=True)

    # Reloading never shows the secret again.
    page.goto(url(live_hub, tenant.slug, "/developers/keys/"))
    expect(page.locator("[data-secret]")).to_have_count(0)

    page.get_by_role("button", name="Revoke").click()  # asks first, in the kit's dialog
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.locator(".message-success")).to_contain_text("was revoked")
    expect(page.locator("#api-keys-table tbody tr").first).to_contain_text("Revoked")
    assert csp_violations(page) == []


@pytest.mark.parametrize("path", ["/developers/docs/", "/developers/redoc/"])
def test_reference_pages_follow_the_dark_theme(docs_tenant, live_hub, chromium, path):  # noqa: F811
    tenant, _ = docs_tenant
    context = chromium.new_context(color_scheme="dark")
    dark = context.new_page()
    try:
        dark.goto(url(live_hub, tenant.slug, path))
        dark.wait_for_load_state("networkidle")
        assert dark.evaluate("document.documentElement.dataset.theme") == "dark"
        assert dark.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 20, 24)"
        dark.get_by_role("button", name="Switch between light and dark theme").click()
        assert dark.evaluate("document.documentElement.dataset.theme") == "light"
        assert dark.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    finally:
        context.close()


def test_redoc_examples_call_the_organisations_own_host(docs_tenant, live_hub, page):  # noqa: F811
    tenant, _ = docs_tenant
    own = url(live_hub, tenant.slug, "")
    page.goto(url(live_hub, tenant.slug, "/developers/redoc/"))
    # Redoc draws all ~180 operations in the browser before any shows: seconds alone, far more
    # beside a second test process and its browsers on two cores.
    expect(page.get_by_text("List members").first).to_be_attached(timeout=90_000)
    page.locator("button", has_text="/api/v1/members/").first.click()
    expect(page.get_by_text(f"{own}/api/v1/members/").first).to_be_visible()
