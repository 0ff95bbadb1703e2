"""The analytics pages in a real Chromium: the dashboards' page-view snippet records the pages a
member opens (two pages, two $pageview events, written by the writer as its task would), the
live events page shows new events as the writer stores them and holds them while paused, a row
opens on its properties and links to its person; every page passes axe-core in light and dark,
on a desktop and a phone (photographed to test-results/screenshots/analytics-*)."""

import secrets

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.analytics import services
from apps.analytics.models import Event, Person
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import axe_violations, chromium, live_hub, new_context, save_screenshot  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD, committed

pytestmark = pytest.mark.browser
PHONE_WIDTH = 390


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    """A tenant of its own with a project key that any origin may send with (the tests send
    from the page), and a few events of a known person."""
    slug = f"analytics-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="Analytics Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        with schema_context(tenant.schema_name):
            _, raw = services.project_key_create(tenant=tenant, actor=None, name="Website", allowed_origins=["*"])
        try:
            yield tenant, owner, raw
        finally:
            tenant_delete(tenant=tenant)


@pytest.fixture
def db_threads(django_db_blocker):
    """Database work runs on threads of its own and commits: the live server must see it."""
    with django_db_blocker.unblock():
        yield


def run_writer(tenant) -> int:
    """The writer, as its Celery task runs it, in the tenant's schema (on a thread of its own:
    Playwright's event loop owns this one); its commit announces the new events to open pages."""

    def work():
        with schema_context(tenant.schema_name):
            return services.events_write_queued()

    return committed(work)


def stored(tenant, **filters) -> list[tuple]:
    def work():
        with schema_context(tenant.schema_name):
            if not services.storage.event_table_exists():
                return []
            rows = Event.objects.filter(**filters).order_by("timestamp")
            return [(e.event, e.distinct_id, e.properties) for e in rows]

    return committed(work)


def capture(page, raw, *events):
    """Sends events from the page, as a site's script would (fetch to this host's capture)."""
    body = {"api_key": raw, "batch": list(events)}
    status = page.evaluate(
        "async (body) => (await fetch('/api/v1/analytics/capture', {method: 'POST',"
        " headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})).status",
        body,
    )
    assert status == 200


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_the_shop_is_served_on_its_domain(shop):
    tenant, _, _ = shop
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost"


def test_two_pages_opened_are_two_page_views(shop, live_hub, chromium, db_threads):  # noqa: F811
    tenant, owner, _ = shop
    context = new_context(chromium)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)  # lands on the home page: a first page view
        page.goto(url(live_hub, tenant, "/members/?q=secret-token"), referer=url(live_hub, tenant, "/?next=secret-ref"))
        page.wait_for_load_state("networkidle")
        run_writer(tenant)
        views = stored(tenant, event="$pageview", distinct_id=str(owner.pk))
        paths = [properties["$pathname"] for _, _, properties in views]
        assert paths == ["/", "/members/"], views
        members = views[1][2]
        assert members["$current_url"] == url(live_hub, tenant, "/members/")  # no query string
        assert members["$title"].startswith("Members") and members["$referrer"] == url(live_hub, tenant, "/")
        assert "secret-token" not in str(views) and "secret-ref" not in str(views)
    finally:
        context.close()


def test_do_not_track_sends_nothing(shop, live_hub, chromium, db_threads):  # noqa: F811
    tenant, owner, _ = shop
    context = new_context(chromium, extra_http_headers={"DNT": "1"})
    context.add_init_script("Object.defineProperty(navigator, 'doNotTrack', {get: () => '1'})")
    page = context.new_page()
    try:
        before = len(stored(tenant, event="$pageview"))
        log_in(page, live_hub, tenant, owner)
        assert page.locator("#hub-page-views").count() == 0
        page.goto(url(live_hub, tenant, "/notifications/"))
        page.wait_for_load_state("networkidle")
        run_writer(tenant)
        assert len(stored(tenant, event="$pageview")) == before
    finally:
        context.close()


def test_live_events_arrive_and_wait_while_paused(shop, live_hub, chromium, db_threads):  # noqa: F811
    tenant, owner, raw = shop
    context = new_context(chromium)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/analytics/events/"))
        expect(page.locator("html")).to_have_attribute("data-live", "connected")
        page.evaluate("window.__stayed = true")  # gone if the page reloads
        table = page.locator("#events-table")

        capture(page, raw, {"event": "checkout_started", "distinct_id": "buyer-1", "properties": {"cart": 3}})
        run_writer(tenant)
        row = table.locator("tr[data-event-row]", has_text="checkout_started")
        expect(row).to_have_count(1, timeout=8_000)

        page.get_by_role("button", name="Pause").click()
        expect(page.get_by_role("button", name="Resume")).to_have_attribute("aria-pressed", "true")
        capture(
            page,
            raw,
            {"event": "checkout_paid", "distinct_id": "buyer-1", "properties": {"$set": {"email": "b@shop.test"}}},
        )
        run_writer(tenant)
        expect(page.locator("[data-live-text]")).to_have_text("1 new event while paused.", timeout=8_000)
        expect(table.locator("tr", has_text="checkout_paid")).to_have_count(0)
        page.get_by_role("button", name="Resume").click()
        expect(table.locator("tr[data-event-row]", has_text="checkout_paid")).to_have_count(1, timeout=8_000)
        assert page.evaluate("window.__stayed === true")

        # A row opens on its properties; its person links to their page.
        row.locator("td").first.click()
        expect(row.locator(".event-properties")).to_be_visible()
        expect(row.locator(".event-properties")).to_contain_text("cart")
        table.locator("tr", has_text="checkout_paid").get_by_role("link", name="b@shop.test").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("b@shop.test")
        expect(page.locator("#person-events-table, #events-table")).to_contain_text("checkout_started")
    finally:
        context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_pages_pass_axe_and_fit_the_phone(shop, live_hub, chromium, db_threads, theme, viewport):  # noqa: F811
    tenant, owner, raw = shop

    def person_uuid():
        with schema_context(tenant.schema_name):
            found = Person.objects.filter(distinct_ids__distinct_id="buyer-1").first()
        connection.close()
        return found and found.uuid

    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)  # axe is an inline script
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/analytics/keys/"))
        capture(
            page,
            raw,
            {
                "event": "viewed_a_very_long_named_pricing_page",
                "distinct_id": "buyer-1",
                "properties": {"$pathname": "/pricing/enterprise/with/a/long/path", "plan": "team"},
            },
        )
        run_writer(tenant)
        person = committed(person_uuid)
        pages = {
            "analytics-keys": "/analytics/keys/",
            "analytics-events": "/analytics/events/",
            "analytics-persons": "/analytics/persons/",
            "analytics-person": f"/analytics/persons/{person}/",
        }
        for name, path in pages.items():
            page.goto(url(live_hub, tenant, path))
            if viewport == "phone":
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE_WIDTH, f"{name} is {width}px wide on a {PHONE_WIDTH}px phone"
            assert axe_violations(page) == [], name
            save_screenshot(page, name)
        page.goto(url(live_hub, tenant, "/analytics/events/"))
        page.locator("tr[data-event-row] summary").first.click()
        assert axe_violations(page) == [], "an open event"
        save_screenshot(page, "analytics-event-open")
        # A revoke asks in the kit's dialog.
        page.goto(url(live_hub, tenant, "/analytics/keys/"))
        page.locator("tr", has_text="Website").get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("dialog")).to_contain_text("Revoke Website?")
        page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    finally:
        context.close()
