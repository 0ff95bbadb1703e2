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


def test_an_approval_is_decided_from_its_e_mail_link_on_a_phone_in_the_dark(office, live_hub, chromium):  # noqa: F811
    tenant, owner = office

    def asked():
        from apps.workflow import services
        from apps.workflow.models import Approval
        from tests.workflow.conftest import graph_of, make_workflow

        with tenant_context(tenant):
            details = {"title": "Book the venue", "details": "Hall B, 12 June, 80 people", "role": "owner"}
            workflow = make_workflow(tenant, graph_of(("ask", "approval", details)), name="Events")
            drain(services.run_manual(tenant=tenant, workflow=workflow))
            approval = Approval.objects.get(step__run__workflow=workflow)
            return approval.pk, services.approval_link_token(approval=approval, user_id=owner.pk, decision="approve")

    approval_id, token = committed(asked)
    context = new_context(chromium, theme="dark", viewport="phone", bypass_csp=True)  # not logged in
    page = context.new_page()
    try:
        page.goto(url(live_hub, tenant, f"/workflows/approvals/by-email/{token}/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Book the venue")
        expect(page.get_by_text("Hall B, 12 June, 80 people")).to_be_visible()
        page_checked(page, "workflow-approval-link")
        page.get_by_label("Comment").fill("Booked for the morning")
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Approved: Book the venue")
        page_checked(page, "workflow-approval-link-done")
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work any more")
        expect(page.get_by_text("This approval was approved already.")).to_be_visible()
    finally:
        context.close()

    def decided():
        from apps.workflow.models import Approval

        with tenant_context(tenant):
            approval = Approval.objects.get(pk=approval_id)
            return approval.status, approval.decided_by_id, approval.comment

    assert committed(decided) == ("approved", owner.pk, "Booked for the morning")
