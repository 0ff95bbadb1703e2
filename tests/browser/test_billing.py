"""The Plan and usage page in a real Chromium: an owner near the members limit sees the banner,
reads each quantity against its limit, upgrades after one confirmation in the kit's dialog, and
a downgrade below usage is refused on the form with the reason; the page passes axe and is
photographed (light desktop, dark phone)."""

import secrets

import pytest
from playwright.sync_api import expect

from apps.billing import quotas
from apps.billing.models import Plan
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD, committed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def billed(django_db_setup, django_db_blocker):
    """A tenant of its own on a Free plan of one seat (so near its limit), made and deleted in a thread."""
    slug = f"billed-{secrets.token_hex(3)}"

    def provision():
        return organisation_provision(
            name="Billed Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )

    def seats(n):
        Plan.objects.filter(key="free").update(seats=n)
        quotas.forget()

    with django_db_blocker.unblock():
        tenant, owner = committed(provision)
        committed(lambda: seats(1))
        try:
            yield tenant, owner
        finally:
            committed(lambda: seats(5))
            committed(lambda: tenant_delete(tenant=tenant))


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_the_billed_tenant_exists(billed):
    assert billed[0].plan == "free"


def test_an_owner_reads_the_usage_upgrades_and_is_refused_a_downgrade(chromium, live_hub, billed):  # noqa: F811
    tenant, owner = billed
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        expect(page.locator("[data-plan-limits]")).to_contain_text("Members: 1 of 1")
        page.locator("[data-plan-limits]").get_by_role("link", name="See the plan and usage").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Plan and usage")
        expect(page.locator('tr[data-quantity="seats"]')).to_contain_text("Limit reached")
        page_checked(page, "billing")
        page.get_by_label("Plan", exact=False).and_(page.locator("select")).select_option(label="Team")
        page.get_by_role("button", name="Change the plan").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Change the plan of Billed Ltd?")
        dialog.get_by_role("button", name="Change the plan").click()
        expect(page.locator(".message-success")).to_contain_text("You are now on the Team plan.")
        committed(lambda: (Plan.objects.filter(key="free").update(seats=0), quotas.forget()))
        page.get_by_label("Plan", exact=False).and_(page.locator("select")).select_option(label="Free")
        page.get_by_role("button", name="Change the plan").click()
        page.get_by_role("dialog").get_by_role("button", name="Change the plan").click()
        expect(page.locator("#plan-form")).to_contain_text("You have 1 member; the Free plan allows 0.")
        page_checked(page, "billing-refused")
    finally:
        context.close()


def test_the_page_on_a_phone_in_the_dark(chromium, live_hub, billed):  # noqa: F811
    tenant, owner = billed
    context = new_context(chromium, theme="dark", viewport="phone", bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/billing/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Plan and usage")
        page_checked(page, "billing")
    finally:
        context.close()
