"""Account pages in a real Chromium, light and dark, desktop and phone: the log-in card, the
email addresses, profile and organisation pages pass axe-core (no serious or critical violation),
break no content security policy, fit the screen, and leave screenshots for a reviewer."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, csp_violations, new_context, save_screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PAGES = [
    ("email-addresses", "/accounts/email/"),
    ("profile", "/profile/"),
    ("organisation-settings", "/settings/"),
    ("create-organisation", "/organisations/new/"),
    ("change-password", "/accounts/password/change/"),
]


def alpha(live_hub, path="/"):
    return live_hub.replace("//localhost", "//alpha.localhost") + path


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_alpha_exists(tenant_a):
    assert tenant_a.slug == "alpha"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_account_pages_in_both_themes_on_desktop_and_phone(live_hub, chromium, theme, viewport):
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=False)
    page = context.new_page()
    page.console = []
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    try:
        page.goto(alpha(live_hub, "/accounts/login/"))
        card = page.locator(".auth-card")
        expect(card.get_by_role("heading", name="Log in to Alpha Ltd")).to_be_visible()
        expect(card.get_by_role("link", name="Email me a log-in code")).to_be_visible()
        expect(card.get_by_role("link", name="Log in with single sign-on")).to_have_count(0)  # not set up
        expect(page.get_by_role("link", name="Sign up")).to_have_count(0)
        page.wait_for_load_state("networkidle")
        save_screenshot(page, "log-in")
        check(page)

        page.get_by_label("Email").fill("owner@alpha.example.com")
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page).to_have_url(alpha(live_hub))
        for name, path in PAGES:
            page.goto(alpha(live_hub, path))
            page.wait_for_load_state("networkidle")
            expect(page.locator("h1").first).to_be_visible()
            save_screenshot(page, name)
            check(page)
        assert csp_violations(page) == []
    finally:
        context.close()


def check(page):
    # Nothing wider than the screen (a phone scrolls down, never sideways).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    # axe is injected as a script: a second context without the policy runs it on the same page.
    html_url = page.url
    context = page.context.browser.new_context(
        bypass_csp=True,
        viewport=page.viewport_size,
        color_scheme="dark" if "dark" in page.evaluate("document.documentElement.dataset.theme") else "light",
        storage_state=page.context.storage_state(),
    )
    try:
        twin = context.new_page()
        theme = page.evaluate("document.documentElement.dataset.theme")
        twin.add_init_script(f"try {{ localStorage.setItem('hub-theme', '{theme}'); }} catch (e) {{}}")
        twin.goto(html_url)
        twin.wait_for_load_state("networkidle")
        assert axe_violations(twin) == [], html_url
    finally:
        context.close()
