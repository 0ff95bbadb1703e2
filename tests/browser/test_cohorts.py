"""Cohort pages in a real Chromium: a member makes a static cohort, lists persons in it, takes one
out and deletes the cohort through the kit's confirmation dialog; the pages pass axe (light on a
desktop, dark on a phone), with nothing wider than the phone (screenshots in
test-results/screenshots/cohorts-*)."""

import secrets
from datetime import UTC, datetime

import pytest
from django.db import transaction
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.analytics import services
from apps.analytics.models import Cohort, Person
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    """A tenant of its own whose site sent events from three persons."""
    slug = f"cohorts-{secrets.token_hex(3)}"
    at = datetime(2026, 11, 2, 10, tzinfo=UTC).isoformat()
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="Cohorts Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        with schema_context(tenant.schema_name), transaction.atomic():
            services.rows_write(
                [
                    [at, f"00000000-0000-4000-8000-{n:012d}", "view", d, '{"plan": "team"}', at, None]
                    for n, d in enumerate(["ann@example.com", "bo@example.com", "cy@example.com"])
                ]
            )
            Person.objects.filter(distinct_ids__distinct_id="cy@example.com").update(properties={"plan": "team"})
            team = Cohort.objects.create(
                name="Team plan",
                kind=Cohort.RULES,
                filters=[{"type": "person", "key": "plan", "op": "eq", "value": "team"}],
            )
        try:
            yield tenant, owner, team
        finally:
            tenant_delete(tenant=tenant)


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_the_shop_is_served_on_its_domain(shop):
    tenant, _, _ = shop
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost"


def test_a_member_builds_a_static_cohort_and_deletes_it(shop, live_hub, chromium):  # noqa: F811
    tenant, owner, _ = shop
    context = new_context(chromium, bypass_csp=True)  # axe is an inline script
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.get_by_role("navigation").get_by_role("link", name="Cohorts").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Cohorts")
        page.get_by_role("link", name="New cohort").first.click()
        page.get_by_label("Name").fill("Beta testers")
        page.get_by_label("A list of persons I add").check()
        page.get_by_role("button", name="Create cohort").click()
        expect(page.locator(".message-success")).to_contain_text("Cohort “Beta testers” created.")
        expect(page.get_by_role("heading", level=1)).to_have_text("Beta testers")

        page.get_by_label("Distinct ids").fill("ann@example.com\nbo@example.com\nnot-yet-seen")
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator(".message-success")).to_contain_text("3 distinct ids added.")
        members = page.locator("#cohort-members-table")
        expect(members.locator("tbody tr")).to_have_count(2)  # not-yet-seen has sent no event
        expect(members).to_contain_text("ann@example.com")
        page_checked(page, "cohorts-detail")

        row = members.locator("tr", has_text="bo@example.com")
        _confirm(page, row, "Remove", "Take the person bo@example.com out of “Beta testers”?", "Remove")
        expect(page.locator(".message-success")).to_contain_text("is out of the cohort")
        expect(members.locator("tbody tr")).to_have_count(1)

        page.get_by_role("link", name="← Cohorts").click()
        expect(page.locator("tr", has_text="Beta testers")).to_contain_text("Static list")
        page_checked(page, "cohorts-list")
        row = page.locator("tr", has_text="Beta testers")
        _confirm(page, row, "Delete", "Delete the cohort “Beta testers”?", "Delete cohort")
        expect(page.locator(".message-success")).to_contain_text("Cohort “Beta testers” deleted.")
        expect(page.locator("tr", has_text="Beta testers")).to_have_count(0)
        expect(page.locator("tr", has_text="Team plan")).to_contain_text("By rules")
    finally:
        context.close()


def _confirm(page, row, button: str, question: str, confirm: str) -> None:
    """Clicks the row's `button`, finds `question` in the kit's dialog and answers `confirm`."""
    row.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(question)
    dialog.get_by_role("button", name=confirm).click()


@pytest.mark.parametrize("theme, viewport", [("light", "desktop"), ("dark", "phone")])
def test_the_cohort_pages_pass_axe_and_fit_a_phone(shop, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner, cohort = shop
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        for name, path in {
            "cohorts-rules": f"/analytics/cohorts/{cohort.pk}/",
            "cohorts-new": "/analytics/cohorts/new/",
        }.items():
            page.goto(url(live_hub, tenant, path))
            page_checked(page, name)
    finally:
        context.close()
