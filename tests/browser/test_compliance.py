"""The compliance pages in a real Chromium: an admin finds Compliance in the navigation, checks the
audit trail for tampering, is told why a syslog destination is refused, opens the data inventory;
the pages pass axe and are photographed (light desktop, dark phone)."""

import secrets

import pytest
from playwright.sync_api import expect

from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD, committed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def audited(django_db_setup, django_db_blocker):
    """A tenant of its own, made and deleted in a thread (Playwright's loop may run in this one)."""
    slug = f"audit-{secrets.token_hex(3)}"

    def provision():
        return organisation_provision(
            name="Audited Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )

    with django_db_blocker.unblock():
        tenant, owner = committed(provision)  # threads of their own that give their connection back
        try:
            yield tenant, owner
        finally:
            committed(lambda: tenant_delete(tenant=tenant))


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_the_audited_tenant_exists(audited):
    assert audited[0].domains.exists()


def test_an_admin_checks_the_trail_and_sets_up_forwarding(chromium, live_hub, audited):  # noqa: F811
    tenant, owner = audited
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.get_by_role("link", name="Compliance").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Compliance")
        page.get_by_role("button", name="Check for tampering").click()
        expect(page.get_by_text("The audit trail is unbroken")).to_be_visible()
        page_checked(page, "compliance")
        page.get_by_label("Syslog (RFC 5424) over TCP").check()
        page.get_by_label("Syslog server").fill("siem.example.com")
        page.get_by_label("Port").fill("70000")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Ensure this value is less than or equal to 65535")).to_be_visible()
        page.get_by_role("link", name="Open the data inventory").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Data inventory")
        expect(page.locator('tr[data-model="identity.User"]')).to_be_visible()
        page_checked(page, "compliance-inventory")
        page.goto(url(live_hub, tenant, "/compliance/"))
        page.get_by_role("link", name="Open retention").click()
        page.get_by_label("Records").first.select_option(label="Workflow runs")
        page.get_by_label("Keep for (days)").fill("30")
        page.get_by_label("Then").select_option(label="Anonymise (people's references removed, the record kept)")
        page.get_by_role("button", name="Save the policy").click()
        expect(page.locator(".message-success")).to_contain_text("Retention of workflow runs saved.")
        row = page.locator('tr[data-policy="workflow.run"]')
        expect(row).to_contain_text("30 days")
        row.get_by_role("button", name="Preview").click()
        expect(page.locator(".message-info")).to_contain_text("Preview: 0 workflow runs are older than 30 days")
        page.locator('tr[data-policy="workflow.run"]').get_by_role("button", name="Remove").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Remove this policy?")
        dialog.get_by_role("button", name="Remove policy").click()
        expect(page.locator(".message-success")).to_contain_text("Retention policy removed")
        page_checked(page, "compliance-retention")
    finally:
        context.close()


def test_the_pages_on_a_phone_in_the_dark(chromium, live_hub, audited):  # noqa: F811
    tenant, owner = audited
    context = new_context(chromium, theme="dark", viewport="phone", bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/compliance/"))
        page_checked(page, "compliance")
        page.goto(url(live_hub, tenant, "/compliance/data-inventory/"))
        page_checked(page, "compliance-inventory")
        page.goto(url(live_hub, tenant, "/compliance/retention/"))
        page_checked(page, "compliance-retention")
    finally:
        context.close()


def _member_of(tenant, email):
    from apps.identity.models import Membership, User

    def make():
        user = User.objects.create_user(email=email, password=PASSWORD, full_name="Dana Subject")
        Membership.objects.create(tenant=tenant, user=user, role="member")
        return user

    return committed(make)  # a thread of its own that closes its connection (the pool's)


def _build_copies(tenant):
    """What the Celery worker does for each open copy (tests/e2e runs it in a real worker)."""
    from django_tenants.utils import schema_context

    from apps.compliance import data_requests
    from apps.compliance.models import DataRequest

    def build():
        with schema_context(tenant.schema_name):
            for pk in DataRequest.objects.filter(status="open", kind="access").values_list("pk", flat=True):
                data_requests.data_request_build(request_id=pk, tenant=tenant)

    committed(build)


def test_a_member_gets_a_copy_and_an_admin_erases_someone(chromium, live_hub, audited, tmp_path):  # noqa: F811
    tenant, owner = audited
    person = _member_of(tenant, f"dana-{secrets.token_hex(3)}@{tenant.slug}.example.com")
    context = new_context(chromium, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, person)
        page.goto(url(live_hub, tenant, "/profile/"))
        page.get_by_role("link", name="Your data requests").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your data")
        page.get_by_label("A copy of my data").check()
        page.get_by_role("button", name="Send the request").click()
        expect(page.locator(".message-success")).to_contain_text("the copy is being made")
        expect(page.get_by_text("Waiting for a worker")).to_be_visible()
        _build_copies(tenant)
        expect(page.get_by_role("link", name="Download the copy (ZIP)")).to_be_visible()  # the page polls
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the copy (ZIP)").click()
        assert download.value.suggested_filename.endswith(".zip")
        page_checked(page, "compliance-request-copy")
        page.goto(url(live_hub, tenant, "/compliance/my-data/"))
        page_checked(page, "compliance-my-data")
        context.clear_cookies()

        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/compliance/"))
        page.get_by_role("link", name="Open data requests").click()
        page.get_by_label("The person's e-mail address").fill("nobody@nowhere.example")
        page.get_by_label("Erasure").check()
        page.get_by_role("button", name="Open the request").click()
        expect(page.get_by_text("has the address nobody@nowhere.example")).to_be_visible()
        page.get_by_label("The person's e-mail address").fill(person.email)
        page.get_by_label("How you checked it is them").fill("Called them on the number we hold")
        page.get_by_role("button", name="Open the request").click()
        expect(page.locator(".message-success")).to_contain_text("opened")
        page.get_by_role("button", name="Erase their data").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("This cannot be undone")
        dialog.get_by_role("button", name="Erase").click()
        expect(page.locator(".message-success")).to_contain_text("Erased:")
        expect(page.get_by_role("heading", name="What was erased")).to_be_visible()
        page_checked(page, "compliance-request-erased")
        page.get_by_role("link", name="← Data requests").click()
        page_checked(page, "compliance-requests")
    finally:
        context.close()


def test_the_data_request_pages_on_a_phone_in_the_dark(chromium, live_hub, audited):  # noqa: F811
    tenant, owner = audited
    context = new_context(chromium, theme="dark", viewport="phone", bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/compliance/requests/"))
        page_checked(page, "compliance-requests")
        page.goto(url(live_hub, tenant, "/compliance/my-data/"))
        page_checked(page, "compliance-my-data")
    finally:
        context.close()


def test_the_consent_banner_on_the_organisation_s_own_site(chromium, live_hub, audited, tmp_path):  # noqa: F811
    """A page of another origin carries the snippet; the visitor's choices reach the hub."""
    import http.server
    import threading

    from django_tenants.utils import schema_context

    from apps.analytics import services as analytics
    from apps.compliance import consent
    from apps.compliance.models import ConsentRecord
    from tests.processes import free_port

    tenant, owner = audited
    port = free_port()
    site = f"http://127.0.0.1:{port}"

    def prepare():
        with schema_context(tenant.schema_name):
            for key, name, words, required in (
                ("necessary", "Necessary", "Keeps your basket.", True),
                ("analytics", "Product analytics", "We count page views.", False),
                ("marketing", "Marketing", "We tell you about offers.", False),
            ):
                consent.purpose_save(
                    tenant=tenant, actor=None, key=key, name=name, description=words, required=required
                )
            return analytics.project_key_create(tenant=tenant, actor=None, name="Shop", allowed_origins=[site])[1]

    raw = committed(prepare)
    script = url(live_hub, tenant, "/static/hub/consent-banner.js")
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Our shop</h1>'
        f'<script src="{script}" data-key="{raw}" data-subject="customer-7" defer></script></body></html>'
    )
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = new_context(chromium)
    page = context.new_page()
    try:
        page.goto(f"{site}/index.html")
        banner = page.get_by_role("dialog", name="Your privacy choices")
        expect(banner).to_be_visible()
        expect(banner.get_by_label("Necessary (always on)", exact=False)).to_be_disabled()
        page_checked(page, "compliance-consent-banner")
        banner.get_by_label("Product analytics", exact=False).check()
        banner.get_by_role("button", name="Save my choices").click()
        expect(banner).to_be_hidden()
        assert page.evaluate("window.hubConsent.get('analytics')") is True
        assert page.evaluate("window.hubConsent.get('marketing')") is False
        page.reload()
        page.wait_for_function("window.hubConsent !== undefined")
        expect(page.get_by_role("dialog", name="Your privacy choices")).to_have_count(0)  # remembered

        def recorded():
            with schema_context(tenant.schema_name):
                return {
                    r.purpose.key: (r.granted, r.method)
                    for r in ConsentRecord.objects.filter(subject="customer-7").select_related("purpose")
                }

        assert committed(recorded) == {
            "necessary": (True, "banner"),
            "analytics": (True, "banner"),
            "marketing": (False, "banner"),
        }
        for theme, viewport in (("light", "desktop"), ("dark", "phone")):
            admin = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
            try:
                admin_page = admin.new_page()
                log_in(admin_page, live_hub, tenant, owner)
                admin_page.goto(url(live_hub, tenant, "/compliance/consent/?subject=customer-7"))
                expect(admin_page.locator("#person")).to_contain_text("Withdrawn")
                page_checked(admin_page, "compliance-consent")
            finally:
                admin.close()
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def test_an_admin_reviews_access_and_asks_for_a_report(chromium, live_hub, audited):  # noqa: F811
    tenant, owner = audited
    leaver = _member_of(tenant, f"leaver-{secrets.token_hex(3)}@{tenant.slug}.example.com")
    for theme, viewport in (("light", "desktop"), ("dark", "phone")):
        context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
        page = context.new_page()
        try:
            log_in(page, live_hub, tenant, owner)
            page.goto(url(live_hub, tenant, "/compliance/access-review/"))
            if viewport == "desktop":
                page.get_by_role("button", name="Open this quarter's review").click()
                row = page.locator(f'tr[data-member="{leaver.pk}"]')
                row.get_by_role("button", name="Remove").click()
                dialog = page.get_by_role("dialog")
                expect(dialog).to_contain_text("They lose access at once")
                dialog.get_by_role("button", name="Remove").click()
                expect(page.locator(".message-success")).to_contain_text("removed from the organisation")
            page_checked(page, "compliance-access-review")
            page.goto(url(live_hub, tenant, "/compliance/reports/"))
            if viewport == "desktop":
                page.get_by_label("Month").fill("2026-01")
                page.get_by_role("button", name="Make the report").click()
                expect(page.locator(".message-success")).to_contain_text("The report of January 2026 is being made")
            page_checked(page, "compliance-reports")
        finally:
            context.close()
