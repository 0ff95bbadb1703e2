"""The bell and the activity widget update live in a real Chromium, and the page reconnects and
misses nothing when Redis restarts under it."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.core.events import publish
from apps.events.models import Event
from apps.events.services import event_dispatch
from apps.notifications.models import Notification
from apps.notifications.services import notification_create
from config.settings.test import redis_dbs_of_this_worker
from tests.browser.conftest import csp_violations
from tests.browser.test_dashboard_flow import log_in, tenant_url
from tests.conftest import committed, subprocess_env
from tests.processes import PrivateRedis, free_port, uvicorn

pytestmark = pytest.mark.browser
ROOT = Path(settings.BASE_DIR)
SCREENSHOTS = ROOT / "test-results" / "screenshots"


# A push through Redis and the websocket takes seconds on a loaded machine (two test processes
# with their browsers): expectations on what a push changes wait this long (ms).
WAIT = 20_000


def notify(tenant, user, title):
    def work():
        with tenant_context(tenant), transaction.atomic():
            return notification_create(user_id=user.pk, event_type="member.joined", title=title, channel="in_app").pk

    return committed(work)


def cleanup(tenant, user):
    def work():
        with tenant_context(tenant):
            Notification.objects.filter(user=user).delete()
            Event.objects.filter(type="organisation.settings_changed", payload__changes__name__new="Live Ltd").delete()

    committed(work)


@pytest.fixture(autouse=True)
def _database_for_threads(django_db_blocker):
    """The database work here runs on threads of its own and commits (no test transaction: the
    live server must see it), so the pytest-django blocker is lifted for the test."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def alpha(_session_tenants, _database_for_threads):
    """(tenant, owner) of alpha, read on a thread of its own: Playwright's loop owns this one."""
    from apps.tenancy.models import Tenant
    from tests.conftest import owner_of

    def work():
        tenant = Tenant.objects.get(pk=_session_tenants["alpha"])
        return tenant, owner_of(tenant)

    return committed(work)


def test_bell_and_activity_update_without_a_reload(live_hub, page, alpha):
    tenant_a, owner_a = alpha
    cleanup(tenant_a, owner_a)
    try:
        log_in(page, live_hub, "alpha", owner_a.email)
        expect(page.locator("html")).to_have_attribute("data-live", "connected")
        count = page.locator("[data-unread-count]")
        expect(count).to_be_hidden()

        notify(tenant_a, owner_a, "Grace joined as member")
        expect(count).to_have_text("1")
        # The kit's toast (one toast system: the same corner as every message).
        expect(page.locator(".messages .message[data-toast-id]")).to_contain_text("Grace joined as member")

        # An event published and dispatched (as a worker would) shows in the activity widget.
        def rename():
            with tenant_context(tenant_a):
                with transaction.atomic():
                    event = publish(
                        "organisation.settings_changed",
                        {"changes": {"name": {"old": "Alpha Ltd", "new": "Live Ltd"}}},
                        tenant=tenant_a,
                    )
                event_dispatch(event_id=event.pk)

        committed(rename)
        expect(page.locator("[data-live-activity] li").first).to_contain_text(
            "The organisation was renamed to “Live Ltd”"
        )
        expect(page.locator("[data-live-activity] li a").first).to_have_attribute("href", "/settings/")
        expect(count).to_have_text("2")  # the rename (by nobody in particular) notifies the owner
        page.screenshot(path="/tmp/hub-live-bell.png")

        page.get_by_label("Notifications: 2 unread").click()  # the bell's dropdown
        page.get_by_role("link", name="See all notifications").click()
        expect(page.locator("[data-notification-id]")).to_have_count(2)
        notify(tenant_a, owner_a, "Linus joined as member")
        expect(page.locator("[data-notification-id]")).to_have_count(3)
        expect(count).to_have_text("3")
        expect(page.locator("[data-notification-id]").first).to_contain_text("Linus joined as member")
        page.get_by_role("button", name="Mark all as read").click()
        expect(count).to_be_hidden()
        assert csp_violations(page) == []
    finally:
        cleanup(tenant_a, owner_a)


def test_a_reload_toasts_nothing_old_and_a_new_notification_toasts_once(live_hub, page, alpha):
    tenant_a, owner_a = alpha
    cleanup(tenant_a, owner_a)
    try:
        for i in range(3):
            notify(tenant_a, owner_a, f"Old news {i}")
        log_in(page, live_hub, "alpha", owner_a.email)
        page.goto(tenant_url(live_hub, "alpha", "/security/"))  # it drew the bell with 0 and id 0
        expect(page.locator("html")).to_have_attribute("data-live", "connected", timeout=WAIT)
        count = page.locator("[data-unread-count]")
        expect(count).to_have_text("3", timeout=WAIT)
        page.reload()
        expect(page.locator("html")).to_have_attribute("data-live", "connected", timeout=WAIT)
        page.wait_for_timeout(300)  # the hello and the sync came and went
        expect(page.locator("[data-toast-id]")).to_have_count(0, timeout=WAIT)

        # A second tab of the same browser: a new notification toasts in one of them only.
        other = page.context.new_page()
        other.goto(tenant_url(live_hub, "alpha", "/"))
        expect(other.locator("html")).to_have_attribute("data-live", "connected", timeout=WAIT)
        fresh = notify(tenant_a, owner_a, "Grace joined as member")
        expect(count).to_have_text("4", timeout=WAIT)
        expect(other.locator("[data-unread-count]")).to_have_text("4", timeout=WAIT)
        toasts = [tab.locator(f'.messages .message[data-toast-id="{fresh}"]') for tab in (page, other)]
        for _ in range(50):
            if sum(t.count() for t in toasts) == 1:
                break
            page.wait_for_timeout(100)
        page.wait_for_timeout(300)  # and no second one comes
        assert [t.count() for t in toasts] in ([1, 0], [0, 1])
        assert "Grace joined as member" in " ".join(t.all_inner_texts()[0] for t in toasts if t.count())
        other.close()

        # Reloaded, nothing toasts again; the bell's dropdown lists the latest, unread marked.
        page.reload()
        expect(page.locator("html")).to_have_attribute("data-live", "connected", timeout=WAIT)
        page.wait_for_timeout(300)
        expect(page.locator("[data-toast-id]")).to_have_count(0, timeout=WAIT)
        page.get_by_label("Notifications: 4 unread").click()
        items = page.locator("[data-bell-item]")
        expect(items).to_have_count(4, timeout=WAIT)
        expect(items.first).to_contain_text("Unread: Grace joined as member", timeout=WAIT)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "bell-light-desktop.png")
        # Clicking an item opens it and marks it read (it has no link of its own: the list).
        items.first.get_by_role("link").click()
        expect(page).to_have_url(tenant_url(live_hub, "alpha", "/notifications/"))
        expect(count).to_have_text("3", timeout=WAIT)
        page.get_by_label("Notifications: 3 unread").click()
        expect(page.locator("[data-bell-item].unread")).to_have_count(3, timeout=WAIT)
        expect(items.first).not_to_have_class("bell-item unread")
        page.get_by_role("button", name="Mark all read").click()
        expect(count).to_be_hidden()
        expect(page.get_by_label("Notifications: 0 unread")).to_be_visible(timeout=WAIT)
        expect(page.locator("[data-bell-item].unread")).to_have_count(0, timeout=WAIT)
        expect(page.locator("[data-bell-item]")).to_have_count(4, timeout=WAIT)
        assert csp_violations(page) == []
    finally:
        cleanup(tenant_a, owner_a)


# --- Redis restarts under connected pages ----------------------------------------------------------


@pytest.fixture
def private_hub(_session_tenants, settings):
    redis = PrivateRedis()
    redis.start()
    port = free_port()
    env = subprocess_env(
        HUB_BASE_DOMAIN=f"localhost:{port}",
        DJANGO_ALLOWED_HOSTS="localhost,.localhost",
        REDIS_URL=redis.url,
        TEST_REDIS_DBS="1,2,3",
    )
    # This test process pushes through the same (private) channel layer as the server (whose
    # databases are shifted for this pytest-xdist worker, as this run's own are).
    channels_db = redis_dbs_of_this_worker([1, 2, 3])[2]
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "apps.events.layers.HubChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{redis.port}/{channels_db}"}]},
        }
    }
    try:
        with uvicorn(port, env):
            yield f"http://localhost:{port}", redis
    finally:
        redis.remove()


def test_redis_restart_reconnects_and_misses_no_notification(private_hub, chromium, alpha):
    hub, redis = private_hub
    tenant_a, owner_a = alpha
    cleanup(tenant_a, owner_a)
    pages = []
    try:
        for _ in range(2):  # two open dashboards of the same member
            context = chromium.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(20_000)
            log_in(page, hub, "alpha", owner_a.email)
            page.goto(tenant_url(hub, "alpha", "/notifications/"))
            expect(page.locator("html")).to_have_attribute("data-live", "connected", timeout=WAIT)
            pages.append(page)

        notify(tenant_a, owner_a, "before the restart")
        for page in pages:
            expect(page.locator("[data-notification-id]")).to_have_count(1, timeout=WAIT)

        redis.stop()
        for page in pages:
            expect(page.locator("html")).to_have_attribute("data-live", "reconnecting", timeout=WAIT)
        notify(tenant_a, owner_a, "while Redis was down")  # its live push fails; the row is committed
        redis.start()  # empty: the channel layer's groups are gone too
        notify(tenant_a, owner_a, "right after the restart")

        for page in pages:
            expect(page.locator("html")).to_have_attribute("data-live", "connected", timeout=40_000)
            items = page.locator("[data-notification-id]")
            expect(items).to_have_count(3, timeout=WAIT)
            expect(page.locator("[data-unread-count]")).to_have_text("3", timeout=WAIT)
        notify(tenant_a, owner_a, "after reconnecting")
        for page in pages:
            expect(page.locator("[data-notification-id]").first).to_contain_text("after reconnecting", timeout=WAIT)
            expect(page.locator("[data-notification-id]")).to_have_count(4, timeout=WAIT)
    finally:
        for page in pages:
            page.context.close()
        cleanup(tenant_a, owner_a)
