"""Integration pages in a real Chromium: an admin adds a GitHub connection with the form of its
kind of credential, tests it against a local fake GitHub, sees it working in the list, and
deletes it through the kit's confirmation dialog; connects an OAuth service through its consent
page; the pages pass axe (light on a desktop, dark on
a phone), nothing wider than the phone (screenshots in test-results/screenshots/integrations-*)."""

import json
import secrets

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.identity.services import organisation_provision
from apps.integrations import services
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked, save_screenshot  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD, committed
from tests.integrations.fakes import FakeOAuth, fake_service
from tests.integrations.test_openapi import PETSTORE

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def org(django_db_setup, django_db_blocker):
    slug = f"integr-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="Integrations Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        with schema_context(tenant.schema_name):
            connection = services.connection_create(
                tenant=tenant,
                name="Team chat",
                connector="slack",
                auth_type="webhook",
                secrets={"url": "https://hooks.slack.example/services/T/B/X"},
            )
            spec = services.spec_import(tenant=tenant, document=json.dumps(PETSTORE), key="pets")
        try:
            yield tenant, owner, connection, spec
        finally:
            tenant_delete(tenant=tenant)


@pytest.mark.django_db
def test_the_organisation_is_served_on_its_domain(org):
    assert org[0].domains.get().domain == f"{org[0].slug}.localhost"


def test_an_admin_adds_tests_and_deletes_a_connection(org, live_hub, chromium):  # noqa: F811
    tenant, owner, _, _ = org
    with fake_service() as fake:
        fake.route("GET", "/user")(lambda r: (200, {"login": "octo"}))
        context = new_context(chromium, bypass_csp=True)
        page = context.new_page()
        try:
            log_in(page, live_hub, tenant, owner)
            page.get_by_role("navigation").get_by_role("link", name="Integrations").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Integrations")
            page.get_by_role("link", name="New connection").first.click()
            page.get_by_label("Service").select_option(label="GitHub")
            page.get_by_label("Kind of credential").select_option(label="Bearer token")
            page.get_by_role("button", name="Next").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("New GitHub connection")
            page.get_by_label("Name").fill("GitHub bot")
            page.get_by_label("Base URL").fill(fake.url)
            page.get_by_role("button", name="Add connection").click()
            expect(
                page.locator("#id_token_error, .errorlist, [id$=_error]").first
            ).to_be_visible()  # the token is required
            page.get_by_label("Token").fill("ghp_secret")
            page.get_by_role("button", name="Add connection").click()
            expect(page.locator(".message-success")).to_contain_text("Connection “GitHub bot” added.")
            expect(page.get_by_label("Token")).to_have_value("")  # never filled back in
            page.get_by_role("button", name="Test connection").click()
            expect(page.locator("#connection-status")).to_contain_text("Signed in to GitHub as octo.")
            assert fake.made("GET", "/user")[0].headers["authorization"] == "Bearer ghp_secret"
            page_checked(page, "integrations-connection")
            page.get_by_role("link", name="← Integrations").click()
            row = page.locator("tr", has_text="GitHub bot")
            expect(row).to_contain_text("Working")
            page_checked(page, "integrations-index")
            row.get_by_role("link", name="GitHub bot").click()
            page.get_by_role("button", name="Delete").click()
            dialog = page.get_by_role("dialog")
            expect(dialog).to_contain_text("Delete the connection “GitHub bot”")
            dialog.get_by_role("button", name="Delete connection").click()
            expect(page.locator(".message-success")).to_contain_text("Connection “GitHub bot” deleted.")
            expect(page.locator("tr", has_text="GitHub bot")).to_have_count(0)
        finally:
            context.close()


@pytest.mark.parametrize("theme, viewport", [("light", "desktop"), ("dark", "phone")])
def test_the_integration_pages_pass_axe_and_fit_a_phone(org, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner, connection, spec = org
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        for name, path in {
            "integrations-list": "/integrations/",
            "integrations-edit": f"/integrations/{connection.pk}/",
            "integrations-choose": "/integrations/new/",
            "integrations-new-oauth": "/integrations/new/?connector=github&auth_type=oauth2",
            "integrations-apis": "/integrations/apis/",
            "integrations-api": f"/integrations/apis/{spec.pk}/",
        }.items():
            page.goto(url(live_hub, tenant, path))
            page_checked(page, name)
    finally:
        context.close()


def test_an_admin_connects_an_oauth_service_through_its_consent_page(org, live_hub, chromium):  # noqa: F811
    """With the Content-Security-Policy enforced: "Connect" posts to the hub, which redirects to
    the provider's consent page (its origin allowed by that page's form-action), which sends the
    browser back with a code; the hub exchanges it and the connection works."""
    tenant, owner, _, _ = org
    with fake_service() as fake:
        FakeOAuth(fake)
        conn = committed(
            lambda: _in_schema(
                tenant,
                lambda: services.connection_create(
                    tenant=tenant,
                    name="Provider API",
                    connector="http",
                    auth_type="oauth2",
                    base_url=fake.url,
                    settings={
                        "authorize_url": f"{fake.url}/authorize",
                        "token_url": f"{fake.url}/token",
                        "client_id": "hub-client",
                        "check_path": "/api/me",
                    },
                    secrets={"client_secret": "s3cret"},
                ),
            )
        )
        context = new_context(chromium)
        page = context.new_page()
        try:
            log_in(page, live_hub, tenant, owner)
            page.goto(url(live_hub, tenant, f"/integrations/{conn.pk}/"))
            expect(page.locator("#redirect-uri")).to_contain_text("/integrations/oauth/callback/")
            page.get_by_role("button", name="Connect with HTTP / JSON").click()
            expect(page.locator(".message-success")).to_contain_text("“Provider API” is connected.")
            expect(page.locator("#connection-status")).to_contain_text("Working")
            assert len(fake.made("GET", "/authorize")) == 1
            assert fake.made("POST", "/token")[0].form()["grant_type"] == "authorization_code"
            page.get_by_role("button", name="Test connection").click()
            expect(page.locator(".message-success")).to_contain_text("It works")
            assert fake.made("GET", "/api/me")[0].headers["authorization"] == "Bearer access-1"
            save_screenshot(page, "integrations-oauth-connected")
        finally:
            context.close()
            committed(lambda: _in_schema(tenant, conn.delete))


def _in_schema(tenant, work):
    with schema_context(tenant.schema_name):
        return work()
