"""The reports pages in a real Chromium: a report asked for on the page shows its progress bar,
which htmx turns into a download link once the job is done (the file downloads); scheduled
reports are made and deleted through the kit's confirm dialog; the BI login is made and removed.
axe-core finds no serious or critical violation on any of them (light and dark, desktop and phone)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, new_context
from tests.browser.test_kit import log_in, page_problems, url
from tests.conftest import committed, owner_of

pytestmark = pytest.mark.browser

TRENDS = {"kind": "trends", "date_from": "2026-03-05", "date_to": "2026-03-06", "series": [{"event": "view"}]}


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_reports_and_bi_are_in_the_navigation(_session_tenants):
    from apps.core.registry import registry

    items = registry["nav_items"]
    assert items["analytics:reports"].permission == "analytics.reports.build"
    assert items["analytics:bi"].permission == "analytics.bi.manage"


@pytest.fixture(autouse=True)
def _database_for_threads(django_db_blocker):
    """The database work here runs on threads of its own and commits (no test transaction: the
    live server must see it), so the pytest-django blocker is lifted for the test."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def reports_tenant(_session_tenants, django_db_blocker):
    """Tenant A with a saved insight; what the tests make there is removed afterwards. (Database
    work on threads of its own: Playwright's loop runs in this one.)"""
    from django.core.files.storage import default_storage
    from django_tenants.utils import schema_context

    from apps.analytics import bi
    from apps.analytics.models import Insight, ReportJob, ScheduledReport
    from apps.tenancy.models import Tenant

    def setup():
        tenant = Tenant.objects.get(pk=_session_tenants["alpha"])
        with schema_context(tenant.schema_name):
            return tenant, owner_of(tenant), Insight.objects.create(name="Browser views", query=TRENDS)

    def clean():
        with schema_context(tenant.schema_name):
            for job in ReportJob.objects.filter(insight_ids__contains=[insight.pk]):
                if job.file:
                    default_storage.delete(job.file)
                job.delete()
            ScheduledReport.objects.filter(name="Browser digest").delete()
            insight.delete()
            bi.bi_access_revoke(tenant=tenant, actor=None)

    with django_db_blocker.unblock():
        tenant, owner, insight = committed(setup)
        try:
            yield tenant, owner, insight
        finally:
            committed(clean)


@pytest.fixture
def signed_in(reports_tenant, live_hub, chromium):
    tenant, owner, _ = reports_tenant
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    log_in(page, live_hub, tenant, owner)
    yield page
    context.close()


def _run_waiting_jobs(tenant):
    """What the Celery worker does (tests/e2e runs a real one)."""
    from django_tenants.utils import schema_context

    from apps.analytics import reports
    from apps.analytics.models import ReportJob

    def run():
        with schema_context(tenant.schema_name):
            for job_id in ReportJob.objects.filter(status="queued").values_list("pk", flat=True):
                reports.report_job_run(job_id=job_id, tenant=tenant)

    committed(run)


def test_a_report_shows_progress_then_downloads(reports_tenant, live_hub, signed_in):
    tenant, _, insight = reports_tenant
    page = signed_in
    page.goto(url(live_hub, tenant, "/analytics/reports/"))
    page.get_by_label("Browser views").check()
    page.locator("#new-report").get_by_label("Format").select_option("pdf")
    page.get_by_role("button", name="Make the report").click()
    expect(page.locator("h1")).to_have_text("Browser views")
    expect(page.locator("progress#job-progress")).to_be_visible()
    _run_waiting_jobs(tenant)
    link = page.get_by_role("link", name="Download PDF")
    expect(link).to_be_visible(timeout=10_000)  # htmx polled the progress and swapped it
    with page.expect_download() as caught:
        link.click()
    download = caught.value
    assert download.suggested_filename == "Browser views.pdf"
    with open(download.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"


def test_a_scheduled_report_is_made_and_deleted_through_the_dialog(reports_tenant, live_hub, signed_in):
    tenant, owner, _ = reports_tenant
    page = signed_in
    page.goto(url(live_hub, tenant, "/analytics/reports/scheduled/"))
    form = page.locator("#new-schedule")
    form.get_by_label("Name").fill("Browser digest")
    form.get_by_label("Browser views").check()
    form.get_by_role("button", name="Schedule").click()
    row = page.locator("tr", has_text="Browser digest")
    expect(row).to_be_visible()
    row.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Stop sending “Browser digest”")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator(".message-success")).to_contain_text("will not be sent any more")
    expect(page.locator("tr", has_text="Browser digest")).to_have_count(0)


def test_the_bi_login_is_shown_once_and_removed(reports_tenant, live_hub, signed_in):
    tenant, _, _ = reports_tenant
    page = signed_in
    page.goto(url(live_hub, tenant, "/analytics/bi/"))
    page.get_by_role("button", name="Make a BI login").click()
    expect(page.locator("#bi-password")).to_be_visible()
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    page.goto(url(live_hub, tenant, "/analytics/bi/"))
    expect(page.locator("#bi-password")).to_have_count(0)
    page.get_by_role("button", name="Remove access").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove access").click()
    expect(page.get_by_role("button", name="Make a BI login")).to_be_visible()


@pytest.mark.parametrize(("theme", "viewport"), [("light", "desktop"), ("dark", "phone")])
def test_reports_pages_pass_axe(reports_tenant, live_hub, chromium, theme, viewport):
    tenant, owner, _ = reports_tenant
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        found = {}
        for path in ("/analytics/reports/", "/analytics/reports/scheduled/", "/analytics/bi/"):
            page.goto(url(live_hub, tenant, path))
            found[path] = axe_violations(page) + page_problems(page, viewport, suffix=f" · {tenant.name}")
        assert not any(found.values()), found
    finally:
        context.close()
