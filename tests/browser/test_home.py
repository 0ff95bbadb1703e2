"""The home page in Chromium: the arrow buttons move a card in place (htmx, no reload), a card
dragged onto another stays there after a reload, and the page fits a phone."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.identity.models import Membership
from tests.browser.conftest import csp_violations
from tests.browser.test_dashboard_flow import log_in
from tests.conftest import committed

SHOTS = Path("test-results/screenshots")


@pytest.fixture(autouse=True)
def _database_for_threads(django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def alpha(_session_tenants, _database_for_threads):
    """(slug, owner's email) of alpha, with the owner's home layout as it comes (reset after)."""

    def reset():
        membership = Membership.objects.select_related("user").get(tenant_id=_session_tenants["alpha"], role="owner")
        Membership.objects.filter(pk=membership.pk).update(home_layout={})
        return membership.user.email

    email = committed(reset)
    yield "alpha", email
    committed(reset)


def order(page) -> list[str]:
    return page.locator("[data-widget-grid] [data-widget]").evaluate_all(
        "cards => cards.map(c => c.getAttribute('data-widget'))"
    )


def test_buttons_and_drag_and_drop_rearrange_the_home_page(live_hub, page, alpha):
    slug, email = alpha
    log_in(page, live_hub, slug, email)
    assert order(page) == ["identity.getting_started", "notifications.activity", "hello.latest"]
    page.evaluate("window.notReloaded = true")

    page.get_by_role("button", name="Move Getting started down").click()
    expect(page.locator("[data-widget-grid] [data-widget]").first).to_have_attribute(
        "data-widget", "notifications.activity"
    )
    assert page.evaluate("window.notReloaded === true")  # swapped in place by htmx

    page.locator('[data-widget="hello.latest"]').drag_to(page.locator('[data-widget="notifications.activity"]'))
    expect(page.locator("[data-widget-grid] [data-widget]").first).to_have_attribute("data-widget", "hello.latest")
    page.wait_for_load_state("networkidle")
    page.reload()
    assert order(page) == ["hello.latest", "notifications.activity", "identity.getting_started"]

    page.get_by_role("button", name="Hide Latest greetings").click()
    expect(page.get_by_role("button", name="Show Latest greetings")).to_be_visible()
    assert "hello.latest" not in order(page)
    assert csp_violations(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-light-desktop.png"), full_page=True)


def test_the_home_page_fits_a_phone(live_hub, page, alpha):
    slug, email = alpha
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_hub, slug, email)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_role("button", name="Move Getting started down")).to_be_in_viewport()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-light-phone.png"), full_page=True)
