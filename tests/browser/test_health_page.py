"""The operators' health page in a real Chromium: platform staff log in on the public site and see
each service's status (this live hub has no worker or beat: those fail, the rest answer), in the
kit's look, with no serious accessibility violation in either theme."""

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, chromium, live_hub, new_context, save_screenshot  # noqa: F401
from tests.conftest import PASSWORD, committed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def staff(django_db_setup, django_db_blocker):
    """Platform staff: the owner of a tenant of its own (made and removed on a thread of their own:
    the browser's event loop may be running on this one)."""
    from apps.identity.services import organisation_provision
    from apps.tenancy.services import tenant_delete

    slug = f"ops-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = committed(
            lambda: organisation_provision(
                name="Ops Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
            )
        )
        committed(lambda: type(owner).objects.filter(pk=owner.pk).update(is_staff=True))
        try:
            yield owner
        finally:
            committed(lambda: tenant_delete(tenant=tenant))


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_the_operator_is_platform_staff(staff):
    staff.refresh_from_db()
    assert staff.is_staff


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_staff_see_every_check_on_the_health_page(staff, live_hub, chromium, theme):  # noqa: F811
    context = new_context(chromium, theme=theme, bypass_csp=True)  # axe is an inline script
    page = context.new_page()
    try:
        page.goto(f"{live_hub}/accounts/login/")
        page.locator("input[name=login]").fill(staff.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_load_state("load")
        response = page.goto(f"{live_hub}/healthz/ready")
        assert response.status == 503  # no worker, no beat in this hub
        expect(page.get_by_role("heading", name="Health")).to_be_visible()
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(5)
        expect(rows.filter(has_text="Database (PostgreSQL)")).to_contain_text("Answering")
        expect(rows.filter(has_text="Live updates (channel layer)")).to_contain_text("Answering")
        expect(rows.filter(has_text="Background workers (Celery)")).to_contain_text("No Celery worker answered a ping.")
        assert axe_violations(page) == []
        save_screenshot(page, "health")
    finally:
        context.close()


def test_the_health_page_is_hidden_from_anonymous_visitors(live_hub, chromium):  # noqa: F811
    context = new_context(chromium)
    try:
        assert context.new_page().goto(f"{live_hub}/healthz/").status == 404
    finally:
        context.close()
