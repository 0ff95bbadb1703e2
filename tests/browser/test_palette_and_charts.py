"""The command palette and the API usage chart in a real Chromium."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, csp_violations, new_context, save_screenshot
from tests.browser.test_dashboard_flow import log_in, tenant_url
from tests.browser.test_live_notifications import _database_for_threads, alpha, cleanup, notify  # noqa: F401
from tests.conftest import committed

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(settings.BASE_DIR) / "test-results" / "screenshots"


@pytest.fixture
def bob(alpha):  # noqa: F811
    """Bob Stone, a member of alpha, committed for the live server; removed afterwards."""
    from apps.identity.models import User
    from tests.factories import MembershipFactory, UserFactory

    tenant, _ = alpha

    def remove():
        with tenant_context(tenant):  # the user's rows in the tenant's schema go too
            User.objects.filter(email="bob.stone@alpha.test").delete()

    def make():
        return MembershipFactory(
            tenant=tenant, role="admin", user=UserFactory(email="bob.stone@alpha.test", full_name="Bob Stone")
        ).user

    committed(remove)
    yield committed(make)
    committed(remove)


def test_ctrl_k_opens_the_palette_typing_finds_a_member_and_enter_goes_there(live_hub, page, alpha, bob):  # noqa: F811
    _, owner = alpha
    log_in(page, live_hub, "alpha", owner.email)
    dialog = page.locator("dialog[data-palette]")
    expect(dialog).to_be_hidden()

    page.keyboard.press("Control+k")
    expect(dialog).to_be_visible()
    box = page.get_by_role("combobox", name="Search pages, members, webhooks and API keys")
    expect(box).to_be_focused()
    # Opened empty, it lists the pages the member may open.
    expect(page.get_by_role("option", name="Members")).to_be_visible()

    box.fill("stone")
    option = page.get_by_role("option", name="Bob Stone")
    expect(option).to_be_visible()
    expect(page.get_by_role("group", name="Members")).to_contain_text("bob.stone@alpha.test · Admin")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    expect(page.locator("[data-palette-status]")).to_have_text("1 result")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "palette-light-desktop.png")

    box.fill("zzz-nobody")
    expect(page.locator("[data-palette-status]")).to_have_text("Nothing found for “zzz-nobody”.")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # The top bar's button opens it too; the arrows move, Enter opens the chosen result.
    page.get_by_role("button", name="Search").click()
    expect(box).to_be_focused()
    box.fill("bob")
    expect(page.get_by_role("option", name="Bob Stone")).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")  # one result only: it wraps round to itself
    expect(page.get_by_role("option", name="Bob Stone")).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(tenant_url(live_hub, "alpha", "/members/?q=bob.stone%40alpha.test"))
    assert csp_violations(page) == []


def test_the_palette_jumps_to_a_page_as_soon_as_typed(live_hub, page, alpha):  # noqa: F811
    _, owner = alpha
    log_in(page, live_hub, "alpha", owner.email)
    page.keyboard.press("Control+k")
    box = page.get_by_role("combobox")
    box.press_sequentially("webh")
    box.press("Enter")  # before the answer came: it goes once the answer is there
    expect(page).to_have_url(tenant_url(live_hub, "alpha", "/webhooks/"))


@pytest.fixture
def usage(alpha):  # noqa: F811
    """Two keys of alpha with calls on the last days, committed; removed afterwards."""
    from apps.api.models import ApiKey, ApiKeyUsage

    tenant, owner = alpha
    today = datetime.now(UTC).date()

    def make():
        with tenant_context(tenant):
            for n, name in enumerate(["Billing sync", "Warehouse"]):
                key = ApiKey.objects.create(name=name, prefix=f"chart{n}", key_hash="x" * 64, created_by=owner)
                for day in range(6):
                    ApiKeyUsage.objects.create(key=key, day=today - timedelta(days=day), count=(day + 1) * (n + 2))

    def remove():
        with tenant_context(tenant):
            ApiKey.objects.filter(prefix__startswith="chart").delete()

    committed(remove)
    committed(make)
    yield
    committed(remove)


def painted_pixels(page) -> int:
    return page.evaluate(
        """() => {
            const canvas = document.querySelector("canvas[data-chart]");
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
            return n;
        }"""
    )


def test_the_usage_chart_draws_in_both_themes(live_hub, page, alpha, usage):  # noqa: F811
    _, owner = alpha
    log_in(page, live_hub, "alpha", owner.email)
    page.goto(tenant_url(live_hub, "alpha", "/developers/keys/"))
    canvas = page.locator("canvas[data-chart]")
    expect(canvas).to_have_attribute("data-chart-drawn", "light")
    page.wait_for_timeout(500)  # the bars grow in for 300 ms
    assert painted_pixels(page) > 2000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#api-usage-title").locator("..").screenshot(path=SCREENSHOTS / "api-usage-light-desktop.png")
    light = canvas.screenshot()

    page.get_by_role("button", name="Switch between light and dark theme").click()
    expect(canvas).to_have_attribute("data-chart-drawn", "dark")
    page.wait_for_timeout(100)
    assert painted_pixels(page) > 2000
    assert canvas.screenshot() != light  # drawn again in the dark theme's colours
    page.locator("#api-usage-title").locator("..").screenshot(path=SCREENSHOTS / "api-usage-dark-desktop.png")

    # The same numbers, as a table, for whoever does not see the chart.
    page.get_by_text("The numbers as a table").click()
    expect(page.locator("#api-usage tbody tr").first).to_contain_text("5")  # today: 1×2 + 1×3
    assert csp_violations(page) == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_open_palette_and_bell_pass_axe_and_fit_the_screen(live_hub, chromium, alpha, bob, theme, viewport):  # noqa: F811
    tenant, owner = alpha
    cleanup(tenant, owner)
    notify(tenant, owner, "Bob Stone joined as admin")
    notify(tenant, owner, "Your API key “Billing sync” expires in 7 days")
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)  # axe is an inline script
    page = context.new_page()
    width = page.viewport_size["width"]
    try:
        log_in(page, live_hub, "alpha", owner.email)
        page.get_by_role("button", name="Search").click()
        page.get_by_role("combobox").fill("bob")
        expect(page.get_by_role("option", name="Bob Stone")).to_be_visible()
        box = page.locator("dialog[data-palette]").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert axe_violations(page) == []
        save_screenshot(page, "palette")
        page.keyboard.press("Escape")

        page.get_by_label("Notifications:").click()
        expect(page.locator("[data-bell-item]")).to_have_count(2)  # the dropdown has loaded
        panel = page.locator("[data-bell-panel]").bounding_box()
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert axe_violations(page) == []
        save_screenshot(page, "bell")
    finally:
        context.close()
        cleanup(tenant, owner)
