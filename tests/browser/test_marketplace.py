"""The Plugins page in a real Chromium: an owner opens Team pulse, reads what it asks for in the
kit's confirmation and enables it (its page then in the navigation), saves its settings, and
disables it through the confirmation; the pages pass axe (light on a desktop, dark on a phone),
nothing wider than the phone (screenshots in test-results/screenshots/marketplace-*)."""

import secrets

import pytest
from playwright.sync_api import expect

from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    slug = f"plugins-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="Plugins Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        try:
            yield tenant, owner
        finally:
            tenant_delete(tenant=tenant)


@pytest.mark.django_db
def test_the_shop_is_served_on_its_domain(shop):
    tenant, _ = shop
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost"


def test_an_owner_enables_configures_and_disables_a_plugin(shop, live_hub, chromium):  # noqa: F811
    tenant, owner = shop
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        nav = page.get_by_role("navigation")
        expect(nav.get_by_role("link", name="Team pulse")).to_have_count(0)
        nav.get_by_role("link", name="Plugins").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Plugins")
        page_checked(page, "marketplace-index")
        page.locator("tr", has_text="Team pulse").get_by_role("link", name="Open").click()
        expect(page.locator("[data-asks-for]")).to_contain_text("Add cards to members' home pages")
        page.get_by_role("button", name="Enable for the organisation").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("It will be able to: see the organisation's members")
        dialog.get_by_role("button", name="Enable").click()
        expect(page.locator(".message-success")).to_contain_text("“Team pulse” is enabled.")
        expect(nav.get_by_role("link", name="Team pulse")).to_have_count(1)

        page.get_by_label("Question").fill("Energy level?")
        page.get_by_label("Highest score").fill("42")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#settings")).to_contain_text("Highest score: 42 is greater than the maximum of 10")
        page.get_by_label("Highest score").fill("10")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator(".message-success")).to_contain_text("settings of “Team pulse” are saved")
        page_checked(page, "marketplace-plugin")

        nav.get_by_role("link", name="Team pulse").click()
        expect(page.get_by_label("Energy level?")).to_be_visible()
        page.goto(url(live_hub, tenant, "/marketplace/pulse/"))
        page.get_by_role("button", name="Disable").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Its data is kept.")
        dialog.get_by_role("button", name="Disable").click()
        expect(page.locator(".message-success")).to_contain_text("is disabled")
        expect(nav.get_by_role("link", name="Team pulse")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.parametrize("theme, viewport", [("light", "desktop"), ("dark", "phone")])
def test_the_plugin_pages_pass_axe_and_fit_a_phone(shop, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner = shop
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        for name, path in {
            "marketplace-index": "/marketplace/",
            "marketplace-chatnotify": "/marketplace/chatnotify/",
        }.items():
            page.goto(url(live_hub, tenant, path))
            page_checked(page, name)
    finally:
        context.close()
