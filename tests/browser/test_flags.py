"""Feature flag pages in a real Chromium: a member creates a flag with the rule builder (adding a
row by htmx), switches it off from the list through the kit's confirmation dialog and rolls it
back from its history; the pages pass axe (light on a desktop, dark on a phone), with nothing
wider than the phone (screenshots in test-results/screenshots/flags-*)."""

import secrets

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.flags import services
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    slug = f"flags-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="Flags Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        with schema_context(tenant.schema_name):
            flag = services.flag_create(
                tenant=tenant,
                actor=None,
                key="pricing-page",
                name="New pricing page",
                filters={
                    "groups": [
                        {
                            "properties": [{"key": "plan", "operator": "exact", "value": "pro", "type": "person"}],
                            "rollout_percentage": 40,
                        }
                    ],
                    "multivariate": {
                        "variants": [
                            {"key": "control", "rollout_percentage": 50},
                            {"key": "test", "rollout_percentage": 50},
                        ]
                    },
                },
            )
        try:
            yield tenant, owner, flag
        finally:
            tenant_delete(tenant=tenant)


@pytest.mark.django_db
def test_the_shop_is_served_on_its_domain(shop):
    tenant, _, _ = shop
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost"


def _confirm(page, row, button: str, question: str, confirm: str) -> None:
    row.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(question)
    dialog.get_by_role("button", name=confirm).click()


def test_a_member_creates_switches_off_and_rolls_back_a_flag(shop, live_hub, chromium):  # noqa: F811
    tenant, owner, _ = shop
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.get_by_role("navigation").get_by_role("link", name="Feature flags").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Feature flags")
        page.get_by_role("link", name="New flag").first.click()
        page.locator("#id_key").fill("beta-banner")
        rows = page.locator("[data-condition-row]")
        expect(rows).to_have_count(2)
        page.get_by_role("button", name="Add a condition row").click()
        expect(rows).to_have_count(3)  # from the server by htmx
        expect(page.locator("#id_key")).to_have_value("beta-banner")  # kept across the swap
        first = rows.nth(0)
        first.get_by_label("Property, cohort id or flag").fill("email")
        first.get_by_label("Is").select_option("icontains")
        first.get_by_label("Value").fill("@acme.test")
        page.get_by_role("button", name="Create flag").click()
        expect(page.locator(".message-success")).to_contain_text("Flag “beta-banner” created.")
        page_checked(page, "flags-detail")

        page.get_by_role("link", name="← Feature flags").click()
        row = page.locator("tr", has_text="beta-banner")
        expect(row).to_contain_text("On")
        page_checked(page, "flags-list")
        _confirm(page, row, "Switch off", "Switch “beta-banner” off?", "Switch off")
        expect(page.locator("tr", has_text="beta-banner")).to_contain_text("Off")

        page.locator("tr", has_text="beta-banner").get_by_role("link", name="Open").click()
        page.get_by_role("link", name="History").click()
        expect(page.locator("tbody tr")).to_have_count(2)
        page_checked(page, "flags-history")
        _confirm(page, page.locator("tr", has_text="created"), "Roll back to this", "Make version 1", "Roll back")
        expect(page.locator(".message-success")).to_contain_text("back to version 1")
        expect(page.locator("tbody tr")).to_have_count(3)
    finally:
        context.close()


@pytest.mark.parametrize("theme, viewport", [("light", "desktop"), ("dark", "phone")])
def test_the_flag_pages_pass_axe_and_fit_a_phone(shop, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner, flag = shop
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        for name, path in {
            "flags-index": "/flags/",
            "flags-edit": f"/flags/{flag.pk}/",
            "flags-new": "/flags/new/",
        }.items():
            page.goto(url(live_hub, tenant, path))
            page_checked(page, name)
    finally:
        context.close()
