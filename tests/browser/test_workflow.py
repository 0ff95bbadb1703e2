"""Workflow pages in a real Chromium: an owner makes a workflow from a template, starts a run with
inputs, approves its request in the approvals inbox and reads the run's steps; the pages pass axe
(light on a desktop, dark on a phone) and fit a phone (screenshots in
test-results/screenshots/workflow-*). The steps are run by this process (drain), as a worker would."""

import secrets

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from apps.workflow.models import WorkflowRun
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD, committed
from tests.workflow.conftest import drain

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def office(django_db_setup, django_db_blocker):
    slug = f"wf-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="Workflow Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        try:
            yield tenant, owner
        finally:
            tenant_delete(tenant=tenant)


@pytest.mark.django_db
def test_the_office_is_served_on_its_domain(office):
    tenant, _ = office
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost"


def _drain(tenant):
    def work():
        with tenant_context(tenant):
            for run in WorkflowRun.objects.filter(status__in=WorkflowRun.ACTIVE):
                drain(run)

    committed(work)


def test_an_owner_runs_a_workflow_and_approves_its_request(office, live_hub, chromium):  # noqa: F811
    tenant, owner = office
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.get_by_role("navigation").get_by_role("link", name="Workflows").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Workflows")
        page.get_by_label("Start from").select_option("approve-request")
        page.get_by_role("button", name="Create workflow").click()
        expect(page.locator(".message-success")).to_contain_text("Workflow “Approve a request” created.")
        expect(page.locator("#graph [data-node]")).to_have_count(3)
        page_checked(page, "workflow-detail")

        page.get_by_label("Inputs (JSON)").fill(f'{{"title": "A new laptop", "email": "{owner.email}"}}')
        page.get_by_role("button", name="Start a run").click()
        expect(page.locator(".message-success")).to_contain_text("started")
        _drain(tenant)

        page.get_by_role("navigation").get_by_role("link", name="Approvals").click()
        row = page.locator("tr", has_text="Request: A new laptop")
        expect(row).to_contain_text("Waiting for a decision")
        page_checked(page, "workflow-approvals")
        row.get_by_role("button", name="Approve").click()
        expect(page.locator(".message-success")).to_contain_text("Approved: Request: A new laptop")
        _drain(tenant)

        page.goto(url(live_hub, tenant, "/workflows/runs/"))
        page.locator("tr[data-run] a").first.click()
        expect(page.locator("#run-status")).to_contain_text("Succeeded")
        expect(page.locator("tr[data-step='yes']")).to_contain_text("Succeeded")
        expect(page.locator("tr[data-step='no']")).to_have_count(0)
        page_checked(page, "workflow-run")
    finally:
        context.close()


@pytest.mark.parametrize("theme, viewport", [("light", "desktop"), ("dark", "phone")])
def test_the_workflow_pages_pass_axe_and_fit_a_phone(office, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner = office
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        for name, path in {"workflow-list": "/workflows/", "workflow-runs": "/workflows/runs/"}.items():
            page.goto(url(live_hub, tenant, path))
            page_checked(page, name)
    finally:
        context.close()
