"""A live hub (uvicorn on a free port, test database) and a Chromium driven by Playwright.

Chromium resolves *.localhost to 127.0.0.1 itself, so tenants are reached at
http://<slug>.localhost:<port>/ like in development.
"""

import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import subprocess_env
from tests.processes import free_port, uvicorn

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(settings.BASE_DIR)


def _mail_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.getbasetemp() / "live-mail"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def live_mail(tmp_path_factory):
    """The folder where the live hub writes the emails it sends, a file per connection."""
    return _mail_dir(tmp_path_factory)


def emailed_link(live_mail, to: str, pattern: str, timeout: float = 5) -> str:
    """The first match of `pattern` (a regular expression) in the newest email to `to`."""
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(live_mail.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
            text = path.read_text()
            if f"To: {to}" in text and (found := re.search(pattern, text)):
                return found.group(0)
        if time.monotonic() > deadline:
            pytest.fail(f"no email to {to} matching {pattern}")
        time.sleep(0.1)


def finish_sign_up(page, live_hub, live_mail, *, email: str, slug: str) -> None:
    """After the sign-up form is sent: follows the link emailed to `email`, creates the
    organisation and lands, logged in, on its dashboard."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_contain_text("Verify")
    page.goto(emailed_link(live_mail, email, r"http://localhost:\d+/accounts/signup/finish/\S+/"))
    page.get_by_role("button", name="Create my organisation").click()
    expect(page).to_have_url(live_hub.replace("//localhost", f"//{slug}.localhost") + "/")


@pytest.fixture(scope="session")
def live_hub(_session_tenants, tmp_path_factory):
    """Base URL of the public site of a hub served by uvicorn from the (migrated) test database."""
    port = free_port()
    env = subprocess_env(
        HUB_BASE_DOMAIN=f"localhost:{port}",
        DJANGO_ALLOWED_HOSTS="localhost,.localhost",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(_mail_dir(tmp_path_factory)),
    )
    with uvicorn(port, env):
        yield f"http://localhost:{port}"


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):  # `make test` installs it or stops before pytest
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh page (own cookies and storage, light colour scheme); page.console holds its console messages."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    page = context.new_page()
    page.console = []
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: page.console.append(f"pageerror: {error}"))
    page.set_default_timeout(10_000)
    yield page
    context.close()


def csp_violations(page) -> list[str]:
    return [line for line in page.console if "Content Security Policy" in line]


# --- Themes, phone-sized viewports, screenshots (shared by every browser test) ----------------

SCREENSHOTS = ROOT / "test-results" / "screenshots"  # git-ignored; a reviewer looks here
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
AXE = Path(__file__).parent / "assets" / "axe.min.js"


def new_context(chromium, *, theme: str = "light", viewport: str = "desktop", **options):
    """A browser context in `theme` ("light"/"dark", as the theme toggle remembers it) at
    `viewport` ("desktop" 1280x800 or "phone" 390x844, touch)."""
    context = chromium.new_context(
        viewport=VIEWPORTS[viewport],
        color_scheme=theme,
        has_touch=viewport == "phone",
        is_mobile=viewport == "phone",
        **options,
    )
    context.add_init_script(f"try {{ localStorage.setItem('hub-theme', '{theme}'); }} catch (e) {{}}")
    context.set_default_timeout(10_000)
    return context


def save_screenshot(page, name: str) -> Path:
    """Writes test-results/screenshots/<name>-<light|dark>-<desktop|phone>.png (the full page) and
    returns its path: the theme is read from the page, the viewport from its width."""
    theme = page.evaluate("document.documentElement.getAttribute('data-theme')") or "light"
    viewport = "phone" if page.viewport_size["width"] < 600 else "desktop"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{theme}-{viewport}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def page_checked(page, name: str) -> None:
    """The page passes axe, is no wider than a phone when the viewport is one, and is photographed
    as `name`."""
    phone = VIEWPORTS["phone"]["width"]
    if page.viewport_size["width"] <= phone:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= phone, f"{name} is {width}px wide on a {phone}px phone"
    assert axe_violations(page) == [], name
    save_screenshot(page, name)


def axe_violations(page, impacts=("serious", "critical")) -> list[str]:
    """Runs axe-core (tests/browser/assets/axe.min.js) on the page and returns its violations of
    the given impacts, one line each: rule, impact, help, the first offending elements.
    The page's context needs bypass_csp=True: axe is injected as an inline script."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},"
        " rules: {'target-size': {enabled: true}}})"  # off by default in axe; tap targets of 24 px or more
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] in impacts:
            targets = "; ".join(
                " ".join(node["target"])
                + (f" ({node['failureSummary'].splitlines()[-1].strip()})" if node.get("failureSummary") else "")
                for node in violation["nodes"][:3]
            )
            found.append(f"{violation['id']} [{violation['impact']}] {violation['help']}: {targets}")
    return found
