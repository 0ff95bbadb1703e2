"""The dashboard in a real Chromium: sign-up across hosts, invitations, themes, the phone layout."""

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations, finish_sign_up
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def tenant_url(live_hub, slug, path="/"):
    return live_hub.replace("//localhost", f"//{slug}.localhost") + path


def log_in(page, live_hub, slug, email):
    page.goto(tenant_url(live_hub, slug, "/accounts/login/"))
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(tenant_url(live_hub, slug))
    # The URL changes before the page's scripts run: wait for them, or a click may come too early.
    page.wait_for_load_state("load")


def test_signup_page_has_no_csp_violations(live_hub, page):
    response = page.goto(f"{live_hub}/accounts/signup/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_label("Organisation name")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # The page really is styled and scripted by its own assets (a blocked stylesheet shows here).
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
    assert csp_violations(page) == []


def test_sign_up_lands_on_the_new_dashboard_and_invites_a_teammate(live_hub, live_mail, page):
    slug = f"browser-{secrets.token_hex(3)}"
    page.goto(f"{live_hub}/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Your name").fill("Jane Doe")
    page.get_by_label("Organisation name").fill("Browser Co")
    page.get_by_label("Address").fill(slug)
    page.get_by_label("Email").fill(f"{slug}@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    # The emailed link creates the organisation; the log-in is handed over from the public host to
    # the tenant's own host.
    finish_sign_up(page, live_hub, live_mail, email=f"{slug}@example.com", slug=slug)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    expect(page.locator(".topbar .tenant-name")).to_have_text("Browser Co")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    page.get_by_label("Email address").fill("teammate@example.com")
    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".message-success")).to_have_text("Invitation sent to teammate@example.com.")
    pending = page.locator("#inv-invitations-table tbody tr")
    expect(pending).to_have_count(1)
    expect(pending.first).to_contain_text("teammate@example.com")
    expect(pending.first).to_contain_text("Admin")
    page.screenshot(path="/tmp/hub-members.png", full_page=True)
    assert csp_violations(page) == []


def test_theme_toggle_flips_and_survives_a_reload(live_hub, page):
    log_in(page, live_hub, "alpha", "owner@alpha.example.com")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")
    page.screenshot(path="/tmp/hub-dashboard-light.png", full_page=True)

    page.locator("[data-theme-toggle]").click()
    expect(html).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    assert page.evaluate("localStorage.getItem('hub-theme')") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 20, 24)"
    page.screenshot(path="/tmp/hub-dashboard-dark.png", full_page=True)

    page.locator("[data-theme-toggle]").click()
    page.reload()
    expect(html).to_have_attribute("data-theme", "light")


def test_phone_layout_hides_the_side_navigation_behind_a_toggle(live_hub, page):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_hub, "alpha", "owner@alpha.example.com")
    toggle = page.get_by_role("button", name="Open navigation")
    sidenav = page.locator("#sidenav")
    expect(toggle).to_be_visible()
    expect(sidenav).not_to_be_in_viewport()

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(sidenav).to_be_in_viewport(ratio=1)
    page.screenshot(path="/tmp/hub-phone-nav.png")
    sidenav.get_by_role("link", name="Members").click()
    expect(page).to_have_url(tenant_url(live_hub, "alpha", "/members/"))
