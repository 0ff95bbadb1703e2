"""The data tables in a real Chromium, on a desktop and a 390x844 phone, light and dark: the row
actions of Members and API keys are on screen and clickable, no list is wider than the phone,
axe-core finds no serious or critical violation on any of them, and with
htmx sorting, searching, a role change and the live delivery log update only the table (each page
is photographed to test-results/screenshots/)."""

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.identity.models import Membership
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked, save_screenshot  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    """A tenant of its own with members, a pending invitation, an API key and a webhook endpoint
    with a delivered and a pending delivery."""
    from apps.api.services import api_key_create
    from apps.identity.services import invitation_create
    from apps.notifications import webhooks
    from apps.notifications.models import Notification, WebhookDelivery

    slug = f"tables-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="Tables Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        for name in ("Bob Builder", "Carla Long-Surname-For-A-Phone"):
            email = f"{name.split()[0].lower()}-{slug}@example.com"
            MembershipFactory(tenant=tenant, role="member", user=UserFactory(email=email, full_name=name))
        actor = Membership.objects.get(tenant=tenant, user=owner)
        invitation_create(actor=actor, email=f"dora-{slug}@example.com", role="viewer")
        with schema_context(tenant.schema_name):
            api_key_create(actor=actor, name="Billing sync with a long name", scopes=["audit:read"], expires_at=None)
            endpoint = webhooks.endpoint_create(url="https://hooks.example.com/orders", event_types=[])
            Notification.objects.create(user=owner, event_type="member.joined", title="Bob Builder joined", in_app=True)
            for n, status in enumerate(("succeeded", "failed", "pending")):
                WebhookDelivery.objects.create(
                    endpoint=endpoint,
                    message_id=f"msg_{n}",
                    event_type="member.joined",
                    body="{}",
                    status=status,
                    attempt_count=1 if status != "pending" else 0,
                )
        try:
            yield tenant, owner, endpoint
        finally:
            tenant_delete(tenant=tenant)


def assert_on_screen(page, locator):
    """The element is visible and lies inside the viewport's width once scrolled to: nothing to
    scroll sideways to reach it."""
    locator.scroll_into_view_if_needed()
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_the_shop_is_served_on_its_domain(shop):
    tenant, _, _ = shop
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_row_actions_are_reachable_and_nothing_overflows(shop, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner, endpoint = shop
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)  # axe is an inline script
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        pages = {
            "tables-members": "/members/",
            "tables-api-keys": "/developers/keys/",
            "tables-sessions": "/security/sessions/",
            "tables-webhooks": "/webhooks/",
            "tables-deliveries": f"/webhooks/{endpoint.pk}/",
            "tables-notifications": "/notifications/",
            "tables-audit-log": "/audit-log/",
        }
        for name, path in pages.items():
            page.goto(url(live_hub, tenant, path))
            page_checked(page, name)

        page.goto(url(live_hub, tenant, "/members/"))
        bob = page.locator("tr", has_text="Bob Builder")
        remove = bob.get_by_role("button", name="Remove")
        assert_on_screen(page, remove)
        assert_on_screen(page, bob.get_by_role("button", name="Change"))
        assert_on_screen(page, page.locator("tr", has_text="dora-").get_by_role("button", name="Withdraw"))
        remove.click()  # clickable: the kit's confirmation opens
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Remove bob-")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()

        page.goto(url(live_hub, tenant, "/developers/keys/"))
        revoke = page.locator("tr", has_text="Billing sync").get_by_role("button", name="Revoke")
        assert_on_screen(page, revoke)
        revoke.click()
        expect(page.get_by_role("dialog")).to_contain_text("Revoke Billing sync with a long name?")
        page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    finally:
        context.close()


def test_htmx_sorts_searches_and_changes_a_role_without_reloading(shop, live_hub, chromium):  # noqa: F811
    tenant, owner, _ = shop
    context = new_context(chromium)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/members/"))
        page.evaluate("window.__stayed = true")  # gone if the page reloads
        table = page.locator("#members-table")
        expect(table.locator("th[aria-sort=ascending]")).to_have_text("Email ↑")  # the list's own order
        page.locator("#members-table th a", has_text="Email").click()
        expect(page).to_have_url(url(live_hub, tenant, "/members/?sort=-email"))
        expect(table.locator("th[aria-sort=descending]")).to_have_text("Email ↓")
        page.locator("#members-table th a", has_text="Email").click()
        expect(page).to_have_url(url(live_hub, tenant, "/members/?sort=email"))
        expect(table.locator("th[aria-sort=ascending]")).to_have_count(1)
        page.get_by_label("Search").first.fill("builder")
        expect(table.locator("tbody tr")).to_have_count(1)
        expect(table).to_contain_text("Bob Builder")
        assert "q=builder" in page.url

        bob = table.locator("tr", has_text="Bob Builder")
        bob.get_by_label("Role of bob-").select_option("admin")
        bob.get_by_role("button", name="Change").click()
        expect(page.locator(".message-success")).to_contain_text("is now admin.")
        expect(table.locator("tr", has_text="Bob Builder").get_by_label("Role of bob-")).to_have_value("admin")
        assert page.evaluate("window.__stayed === true")
    finally:
        context.close()


def test_the_delivery_log_updates_by_itself(shop, live_hub, chromium, django_db_blocker):  # noqa: F811
    from apps.notifications.models import WebhookDelivery

    tenant, owner, endpoint = shop
    context = new_context(chromium)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, f"/webhooks/{endpoint.pk}/"))
        row = page.locator("tr[data-delivery]", has_text="msg_2")
        expect(row.locator(".badge-neutral")).to_have_text("Pending")
        expect(page.locator("tr", has_text="msg_1").locator(".badge-danger")).to_have_text("Failed")
        page.evaluate("window.__stayed = true")

        def update(**fields):  # in a thread: Playwright's event loop makes this one async to Django
            def run():
                with schema_context(tenant.schema_name):
                    WebhookDelivery.objects.filter(endpoint=endpoint, message_id="msg_2").update(**fields)
                connection.close()

            with django_db_blocker.unblock(), ThreadPoolExecutor(1) as pool:
                pool.submit(run).result()

        update(attempt_count=1)  # a failed attempt: retrying
        expect(row.locator(".badge-warning")).to_have_text("Retrying", timeout=8_000)
        update(status="succeeded")
        expect(row.locator(".badge-success")).to_have_text("Delivered", timeout=8_000)
        assert page.evaluate("window.__stayed === true")
        save_screenshot(page, "tables-deliveries-live")
    finally:
        context.close()


def test_marking_a_notification_read_updates_the_list_in_place(shop, live_hub, chromium):  # noqa: F811
    tenant, owner, _ = shop
    context = new_context(chromium)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/notifications/"))
        page.evaluate("window.__stayed = true")
        row = page.locator("tr", has_text="Bob Builder joined")
        expect(row.locator(".badge", has_text="new")).to_be_visible()
        row.get_by_role("button", name="Mark as read").click()
        expect(row.get_by_role("button", name="Mark as read")).to_have_count(0)
        expect(row.locator(".badge", has_text="new")).to_have_count(0)
        assert page.evaluate("window.__stayed === true")
    finally:
        context.close()
