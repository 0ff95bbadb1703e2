"""Analytics dashboards in a real Chromium: tiles moved by dragging and by the keyboard's
buttons, resized by their corner, the layout saved; charts refreshing when events arrive (over
the real websocket); the read-only link; axe and screenshots in both themes and on a phone."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, csp_violations, new_context, save_screenshot
from tests.browser.test_dashboard_flow import log_in, tenant_url
from tests.browser.test_live_notifications import _database_for_threads, alpha  # noqa: F401
from tests.conftest import committed

pytestmark = pytest.mark.browser
NAME = "Browser board"


def _today():
    return datetime.now(UTC).date()


@pytest.fixture
def board(alpha):  # noqa: F811
    """A dashboard of alpha with two tiles side by side (committed); removed afterwards."""
    from apps.analytics import services
    from apps.analytics.models import Dashboard, Insight

    tenant, owner = alpha

    def remove():
        with tenant_context(tenant):
            Dashboard.objects.filter(name=NAME).delete()
            Insight.objects.filter(name__startswith="Browser ").delete()

    def make():
        today = _today()
        query = {
            "kind": "trends",
            "date_from": (today - timedelta(days=6)).isoformat(),
            "date_to": today.isoformat(),
            "series": [{"event": "browser_view"}],
        }
        with tenant_context(tenant), transaction.atomic():
            dashboard = services.dashboard_create(tenant=tenant, actor=None, name=NAME, date_range="7d")
            tiles = [
                services.tile_add(
                    tenant=tenant,
                    actor=None,
                    dashboard=dashboard,
                    insight=services.insight_create(tenant=tenant, actor=None, name=f"Browser {word}", query=query),
                )
                for word in ("views", "visits")
            ]
        return dashboard, tiles

    committed(remove)
    yield committed(make)
    committed(remove)


def _layout(tenant, dashboard):
    from apps.analytics.models import DashboardTile

    def read():
        with tenant_context(tenant):
            return {t.pk: (t.x, t.y, t.w, t.h) for t in DashboardTile.objects.filter(dashboard_id=dashboard.pk)}

    return committed(read)


def _until(page, expression: str, timeout: float = 10):
    """Waits until the JavaScript `expression` is true (page.evaluate: wait_for_function would
    eval a string, which the pages' CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.05)


def _saved(page):
    _until(page, "document.querySelector('[data-dash-grid]').hasAttribute('data-layout-saved')")
    _until(page, "!document.querySelector('[data-dash-grid]').hasAttribute('data-layout-saving')")
    page.evaluate("document.querySelector('[data-dash-grid]').removeAttribute('data-layout-saved')")


def _drag(page, source, dx, dy):
    box = source.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(x + dx * step / 5, y + dy * step / 5)
    page.mouse.up()


def test_tiles_move_and_resize_by_drag_and_by_keyboard_and_the_layout_is_saved(live_hub, page, alpha, board):  # noqa: F811
    tenant, owner = alpha
    dashboard, (first, second) = board
    log_in(page, live_hub, "alpha", owner.email)
    page.goto(tenant_url(live_hub, "alpha", f"/analytics/dashboards/{dashboard.pk}/"))
    expect(page.get_by_role("heading", name="Browser views")).to_be_visible()
    assert _layout(tenant, dashboard) == {first.pk: (0, 0, 6, 3), second.pk: (6, 0, 6, 3)}

    page.get_by_role("button", name="Arrange tiles").click()
    grid_width = page.locator("[data-dash-grid]").bounding_box()["width"]
    column = grid_width / 12
    # Drag the second tile's handle to the left edge: it takes the first place, the first goes down.
    _drag(page, page.locator(f"[data-tile='{second.pk}'] [data-drag-handle]"), -6 * column, 0)
    _saved(page)
    assert _layout(tenant, dashboard) == {second.pk: (0, 0, 6, 3), first.pk: (0, 3, 6, 3)}

    # Resize the second by its corner: 3 columns wider, one row shorter.
    _drag(page, page.locator(f"[data-tile='{second.pk}'] [data-resize-handle]"), 3 * column, -110)
    _saved(page)
    layout = _layout(tenant, dashboard)
    assert layout[second.pk] == (0, 0, 9, 2), layout

    # The keyboard: the tile's Arrange menu, "Move right" pressed with Enter.
    menu = page.locator(f"[data-tile='{first.pk}'] .dash-tile-menu summary")
    menu.focus()
    page.keyboard.press("Enter")
    move = page.locator(f"[data-tile='{first.pk}']").get_by_role("button", name="Move right")
    move.focus()
    page.keyboard.press("Enter")
    _saved(page)
    expect(move).to_be_focused()
    assert _layout(tenant, dashboard)[first.pk] == (1, 2, 6, 3)
    expect(page.locator("[data-layout-status]")).to_contain_text("Browser views: column 2, row 3")

    # A reload draws the saved layout.
    page.reload()
    tile = page.locator(f"[data-tile='{first.pk}']")
    assert tile.evaluate("el => getComputedStyle(el).gridColumnStart") == "2"
    assert csp_violations(page) == []


def test_charts_refresh_when_events_arrive(live_hub, page, alpha, board):  # noqa: F811
    from apps.analytics import services

    tenant, owner = alpha
    dashboard, (first, _) = board
    log_in(page, live_hub, "alpha", owner.email)
    expect(page.locator("html")).to_have_attribute("data-live", "connected")
    page.goto(tenant_url(live_hub, "alpha", f"/analytics/dashboards/{dashboard.pk}/"))
    expect(page.locator("html")).to_have_attribute("data-live", "connected")
    script = f"JSON.parse(document.getElementById('tile-chart-{first.pk}').textContent).datasets[0].data"
    assert sum(page.evaluate(script)) == 0

    def write():
        now = datetime.now(UTC).isoformat()
        rows = [[now, f"00000000-0000-4000-9000-{i:012d}", "browser_view", f"b{i}", "{}", now, None] for i in range(3)]
        with tenant_context(tenant), transaction.atomic():
            services.rows_write(rows)  # its commit pushes "analytics data changed" to the open pages

    committed(write)
    body = page.locator(f"[data-tile='{first.pk}'] [data-tile-body]")
    expect(body).to_have_attribute("data-refreshes", "1")
    _until(page, f"{script}.reduce((a, b) => a + b, 0) === 3")
    expect(page.locator(f"canvas[data-chart='tile-chart-{first.pk}']")).to_have_attribute("data-chart-drawn", "light")
    assert csp_violations(page) == []

    def forget():
        from django.db import connection

        with tenant_context(tenant), connection.cursor() as cursor:
            cursor.execute("DELETE FROM analytics_event WHERE event = 'browser_view'")
            cursor.execute("DELETE FROM analytics_eventuuid WHERE uuid::text LIKE '00000000-0000-4000-9000-%'")

    committed(forget)


@pytest.mark.parametrize(("theme", "viewport"), [("light", "desktop"), ("dark", "desktop"), ("light", "phone")])
def test_analytics_pages_pass_axe_and_fit_the_screen(live_hub, chromium, alpha, board, theme, viewport):  # noqa: F811
    from apps.analytics import services

    tenant, owner = alpha
    dashboard, (first, _) = board

    def share():
        with tenant_context(tenant):
            dashboard.refresh_from_db()
            services.dashboard_share(tenant=tenant, actor=None, dashboard=dashboard)
            from apps.analytics import selectors

            dashboard.refresh_from_db()
            return selectors.share_token(dashboard=dashboard)

    token = committed(share)
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    try:
        page = context.new_page()
        log_in(page, live_hub, "alpha", owner.email)
        pages = {
            "analytics-dashboards": "/analytics/dashboards/",
            "analytics-dashboard": f"/analytics/dashboards/{dashboard.pk}/",
            "analytics-insights": "/analytics/insights/",
            "analytics-insight": f"/analytics/insights/{first.insight_id}/",
            "analytics-builder-funnel": "/analytics/insights/new/funnel/",
            "analytics-shared": f"/analytics/shared/{token}/",
        }
        for name, path in pages.items():
            page.goto(tenant_url(live_hub, "alpha", path))
            page.wait_for_load_state("networkidle")
            expect(page.locator("h1").first).to_be_visible()
            if name == "analytics-dashboard" and viewport == "desktop":
                page.get_by_role("button", name="Arrange tiles").click()  # the handles and menus too
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
            save_screenshot(page, name)
            assert axe_violations(page) == [], name
        shared_html = page.content()
        assert "sidenav" not in shared_html and "Browser views" in shared_html
    finally:
        context.close()
