"""A live hub (uvicorn on a free port, test database) and a Chromium driven by Playwright.

Chromium resolves *.localhost to 127.0.0.1 itself, so tenants are reached at
http://<slug>.localhost:<port>/ like in development.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import subprocess_env
from tests.processes import free_port, uvicorn

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="session")
def live_hub(_session_tenants):
    """Base URL of the public site of a hub served by uvicorn from the (migrated) test database."""
    port = free_port()
    env = subprocess_env(HUB_BASE_DOMAIN=f"localhost:{port}", DJANGO_ALLOWED_HOSTS="localhost,.localhost")
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
