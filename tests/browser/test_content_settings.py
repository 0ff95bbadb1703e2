"""The files settings page in a real Chromium: an admin finds it from the files page, turns
"keep the location" on and off, and the choice holds; the page passes axe and is photographed."""

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from apps.content.selectors import content_settings_get
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def photos(django_db_setup, django_db_blocker):
    """A tenant of its own, made and deleted in a thread: an earlier browser module may have left
    Playwright's event loop running in this one, where Django refuses queries."""
    slug = f"photos-{secrets.token_hex(3)}"

    def provision():
        return organisation_provision(
            name="Photos Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )

    with django_db_blocker.unblock(), ThreadPoolExecutor(1) as pool:
        tenant, owner = pool.submit(provision).result()
        try:
            yield tenant, owner
        finally:
            pool.submit(tenant_delete, tenant=tenant).result()


def kept(tenant, django_db_blocker) -> bool:
    """The saved choice, read off Playwright's event loop (Django refuses queries inside it)."""
    with django_db_blocker.unblock(), ThreadPoolExecutor(1) as pool:
        return pool.submit(_read, tenant).result()


def _read(tenant) -> bool:
    from django.db import connection

    try:
        return content_settings_get(tenant=tenant).keep_image_location
    finally:
        connection.close()  # the thread's own connection: not left to block the test database's teardown


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_the_photos_tenant_exists(photos):
    assert photos[0].domains.exists()


def test_an_admin_keeps_and_drops_the_location_of_pictures(chromium, live_hub, photos, django_db_blocker):  # noqa: F811
    tenant, owner = photos
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/content/"))
        page.get_by_role("link", name="Files settings").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Files settings")
        box = page.get_by_label("Keep the location in uploaded pictures")
        expect(box).not_to_be_checked()
        page_checked(page, "content-settings")
        box.check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Files settings saved.")).to_be_visible()
        expect(page.get_by_label("Keep the location in uploaded pictures")).to_be_checked()
        assert kept(tenant, django_db_blocker) is True
        page.get_by_label("Keep the location in uploaded pictures").uncheck()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Files settings saved.")).to_be_visible()
        assert kept(tenant, django_db_blocker) is False
    finally:
        context.close()
