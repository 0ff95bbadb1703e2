"""GraphiQL on /graphql/ in a real Chromium against a live server: served from vendored assets
with no CSP violation, it runs a query with the member's session (and CSRF token)."""

import pytest
from playwright.sync_api import expect

from tests.api.test_browser import docs_tenant, url  # noqa: F401  (the API pages' own tenant)
from tests.browser.conftest import chromium, csp_violations, live_hub, page, save_screenshot  # noqa: F401
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.django_db  # also makes pytest-django set up the test database when this file runs alone
def test_the_tenant_is_served_on_its_domain(docs_tenant):  # noqa: F811
    tenant, _ = docs_tenant
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost"


def test_graphiql_needs_a_session(docs_tenant, live_hub, page):  # noqa: F811
    tenant, _ = docs_tenant
    page.goto(url(live_hub, tenant.slug, "/graphql/"))
    expect(page).to_have_url(url(live_hub, tenant.slug, "/accounts/login/?next=/graphql/"))


def test_graphiql_runs_a_query_with_the_session(docs_tenant, live_hub, page):  # noqa: F811
    tenant, owner = docs_tenant
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url(live_hub, tenant.slug, "/accounts/login/?next=/graphql/"))
    page.get_by_label("Email").fill(owner.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(url(live_hub, tenant.slug, "/graphql/"))
    expect(page.locator(".graphiql-container")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Execute query").click()
    expect(page.locator(".result-window")).to_contain_text(owner.email, timeout=10_000)
    page.wait_for_load_state("networkidle")
    assert csp_violations(page) == []
    assert [u for u in requests if not u.startswith(url(live_hub, tenant.slug, "/"))] == []  # nothing from a CDN
    save_screenshot(page, "graphiql")
    page.emulate_media(color_scheme="dark")
    page.reload()
    expect(page.locator(".graphiql-container")).to_be_visible(timeout=20_000)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 255, 255)"
    page.evaluate("document.documentElement.setAttribute('data-theme', 'dark')")  # names the screenshot
    save_screenshot(page, "graphiql")
