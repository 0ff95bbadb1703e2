"""Workflow pages in a real Chromium: an owner makes a workflow from a template, starts a run with
inputs, approves its request in the approvals inbox and reads the run's steps; an owner builds a
workflow on the builder's canvas with the mouse (adds steps, drags one, connects a port, fills the
parameter form, undoes and redoes), saves, publishes and runs it; the pages pass axe
(light on a desktop, dark on a phone) and fit a phone (screenshots in
test-results/screenshots/workflow-*). The steps are run by this process (drain), as a worker would."""

import re
import secrets

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from apps.workflow.models import WorkflowRun
from tests.browser.conftest import chromium, live_hub, new_context, page_checked, save_screenshot  # noqa: F401
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


def _new_workflow(page, base, tenant, owner, name):
    """Logs the owner in, creates the workflow `name` from the list page and returns its builder."""
    log_in(page, base, tenant, owner)
    page.goto(url(base, tenant, "/workflows/"))
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create workflow").click()
    expect(page.locator(".message-success")).to_contain_text(f"Workflow “{name}” created.")
    builder = page.locator("#builder-app")
    expect(builder).to_be_visible()
    return builder


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


def test_an_owner_builds_a_workflow_on_the_canvas_with_the_mouse_and_runs_it(office, live_hub, chromium):  # noqa: F811
    tenant, owner = office
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        builder = _new_workflow(page, live_hub, tenant, owner, "Greeter")

        builder.get_by_label("Add a step").select_option(label="Set variables")
        builder.get_by_role("button", name="Add", exact=True).click()
        expect(builder.locator('[data-node="set"]')).to_be_visible()
        builder.get_by_label("Parameters (JSON)").fill('{"values": {"greeting": "hello {{ trigger.who }}"}}')
        builder.get_by_label("Parameters (JSON)").press("Tab")
        builder.get_by_label("Add a step").select_option(label="Notify people")
        builder.get_by_role("button", name="Add", exact=True).click()
        builder.get_by_label("title *").fill("Greeting: {{ vars.greeting }}")
        builder.get_by_label("title *").press("Tab")
        expect(builder.get_by_label("body")).to_be_focused()  # the panel keeps the keyboard's place
        builder.get_by_label("role").select_option("owner")

        # Drag the second step to the right, then connect the first step's "out" port to it.
        builder.locator(".builder-scroll").scroll_into_view_if_needed()
        box = builder.locator('[data-node="notify"] rect').bounding_box()
        page.mouse.move(box["x"] + 60, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + 200, box["y"] - 40, steps=8)
        page.mouse.up()
        moved = builder.locator('[data-node="notify"] rect').bounding_box()
        assert moved["x"] > box["x"] + 100
        builder.locator('[data-node="set"] [data-port="out"]').click()
        builder.locator('[data-node="notify"] rect').click()
        edge = builder.locator('[data-edge="set:out:notify"]')
        expect(edge).to_have_count(1)
        expect(page.locator("[data-builder-count]")).to_have_text("2 steps, 1 connection")
        builder.get_by_role("button", name="Undo").click()
        expect(edge).to_have_count(0)
        builder.get_by_role("button", name="Redo").click()
        expect(edge).to_have_count(1)
        builder.get_by_role("button", name="Zoom in").click()
        expect(builder.locator("[data-builder-zoom]")).to_have_text("120 %")
        builder.get_by_role("button", name="Actual size").click()
        page_checked(page, "workflow-builder")

        page.get_by_role("button", name="Save the draft").click()
        expect(page.locator(".message-success")).to_contain_text("Draft saved.")
        expect(page.locator('#builder-app [data-edge="set:out:notify"]')).to_have_count(1)  # read back
        page.get_by_role("button", name="Publish the draft").click()
        expect(page.locator(".message-success")).to_contain_text("Version 1 published")
        page.get_by_label("Inputs (JSON)").fill('{"who": "Ada"}')
        page.get_by_role("button", name="Start a run").click()
        expect(page.locator(".message-success")).to_contain_text("started")
        _drain(tenant)
        page.goto(url(live_hub, tenant, "/workflows/runs/"))
        page.locator("tr[data-run] a").first.click()
        expect(page.locator("#run-status")).to_contain_text("Succeeded")
    finally:
        context.close()

    def greeted():
        from apps.notifications.models import Notification

        with tenant_context(tenant):
            return list(Notification.objects.filter(user=owner).values_list("title", flat=True))

    assert "Greeting: hello Ada" in committed(greeted)


def test_an_owner_drags_a_step_from_the_palette_sees_its_problem_live_and_test_runs_it(office, live_hub, chromium):  # noqa: F811
    tenant, owner = office
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        builder = _new_workflow(page, live_hub, tenant, owner, "Tester")
        publish = page.get_by_role("button", name="Publish the draft")

        # Drag "Set variables" from the palette strip and drop it on the canvas, with the mouse.
        chip = builder.locator(".builder-chip", has_text="Set variables")
        canvas = builder.locator(".builder-scroll")
        canvas.scroll_into_view_if_needed()
        start, area = chip.bounding_box(), canvas.bounding_box()
        page.mouse.move(start["x"] + 10, start["y"] + 8)
        page.mouse.down()
        page.mouse.move(area["x"] + 300, area["y"] + 150, steps=10)
        expect(page.locator(".builder-ghost")).to_have_text("Set variables")
        page.mouse.up()
        node = builder.locator('[data-node="set"]')
        expect(node).to_be_visible()
        dropped = node.locator("rect").bounding_box()
        assert abs(dropped["x"] + dropped["width"] / 2 - (area["x"] + 300)) <= 15  # where it was let go, on the grid
        expect(page.locator(".builder-ghost")).to_have_count(0)

        # Its "values" are empty: the server's check says so on the canvas, and Publish is off.
        problems = builder.locator("[data-builder-problems]")
        expect(problems).to_contain_text("Step “set”, values: this parameter is required")
        expect(node).to_have_class(re.compile("has-problem"))
        expect(publish).to_be_disabled()
        expect(page.locator("#publish-reason")).to_contain_text("Publishing is off")
        save_screenshot(page, "workflow-builder-problem")
        page.get_by_label("Add a step").focus()
        problems.get_by_role("button", name="Step “set”, values: this parameter is required").click()
        expect(node).to_be_focused()
        builder.get_by_label("Parameters (JSON)").fill('{"values": {"greeting": "Hello {{ trigger.name }}"}}')
        builder.get_by_label("Parameters (JSON)").press("Tab")
        expect(problems).to_be_hidden()
        expect(node).not_to_have_class(re.compile("has-problem"))
        expect(publish).to_be_disabled()  # the canvas's changes are not saved yet
        expect(page.locator("#publish-reason")).to_have_text("Save the draft first: Publish takes the saved draft.")

        # A test run with a sample: bad JSON is refused in words, then the canvas shows the run.
        expect(page.get_by_text("Test runs perform the steps' actions for real")).to_be_visible()
        sample = builder.get_by_label("Sample trigger data (JSON)")
        expect(sample).to_have_value("{}")
        sample.fill('{"name": Ada}')
        builder.get_by_role("button", name="Test run", exact=True).click()
        expect(builder.locator("#builder-sample-error")).to_contain_text("Not valid JSON")
        expect(sample).to_have_attribute("aria-invalid", "true")
        sample.fill('{"name": "Ada"}')
        builder.get_by_role("button", name="Test run", exact=True).click()
        expect(builder.locator("[data-builder-progress]")).to_be_visible()
        expect(builder.locator("#builder-sample-error")).to_be_hidden()
        result = builder.locator("[data-builder-test-result]")
        expect(result).to_contain_text("Running: 1 step so far")  # started: a worker's turn
        _drain(tenant)
        expect(result).to_contain_text("Test run succeeded: 1 step.")
        expect(builder.locator("[data-builder-progress]")).to_be_hidden()
        expect(node.locator("[data-run-status]")).to_have_text("Succeeded")
        expect(node).to_have_class(re.compile("run-succeeded"))
        node.locator("rect").click()
        expect(builder.locator(".builder-panel pre[data-result=output]")).to_contain_text('"greeting": "Hello Ada"')
        expect(builder.locator(".builder-panel pre[data-result=input]")).to_contain_text('"greeting": "Hello Ada"')
        page_checked(page, "workflow-builder-test-run")
    finally:
        context.close()

    def saved():
        from apps.workflow.models import Workflow

        with tenant_context(tenant):
            workflow = Workflow.objects.get(name="Tester")
            return workflow.draft.get("nodes"), workflow.runs.filter(trigger="test").count()

    assert committed(saved) == ([], 1)  # the canvas was tested unsaved; nothing was saved


@pytest.mark.parametrize("theme, viewport", [("light", "desktop"), ("dark", "phone")])
def test_the_workflow_pages_pass_axe_and_fit_a_phone(office, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner = office
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        pages = {"workflow-list": "/workflows/", "workflow-runs": "/workflows/runs/"}
        workflow = committed(lambda: _a_workflow(tenant))
        pages["workflow-page"] = f"/workflows/{workflow}/"
        for name, path in pages.items():
            page.goto(url(live_hub, tenant, path))
            page_checked(page, name)
    finally:
        context.close()


def _a_workflow(tenant) -> int:
    from tests.workflow.conftest import graph_of, make_workflow

    with tenant_context(tenant):
        graph = graph_of(
            ("hello", "set", {"values": {"a": 1}}),
            ("tell", "workflow.notify", {"title": "Hi"}),
            edges=[("hello", "out", "tell")],
        )
        return make_workflow(tenant, graph, name="Canvas").pk


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


def test_an_integration_action_is_placed_with_its_parameters_fetched_on_demand(office, live_hub, chromium):  # noqa: F811
    """The palette lists the integration hub's actions by service and name only: placing one
    fetches its parameters (its required ones pre-filled, each a field of the panel)."""
    tenant, owner = office
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        builder = _new_workflow(page, live_hub, tenant, owner, "Customers")
        assert builder.locator('optgroup[label="Stripe"] option[value="stripe.GetCustomers"]').count() == 1
        # Not among the palette strip's chips until the filter finds it; then dragged onto the canvas.
        chip = builder.locator('.builder-chip[data-type="stripe.GetCustomers"]')
        expect(chip).to_be_hidden()
        builder.get_by_label("Find a step, an integration's action too").fill("stripe customers")
        expect(chip).to_be_visible()
        expect(builder.locator(".builder-chip", has_text="Set variables")).to_be_hidden()
        canvas = builder.locator(".builder-scroll")
        start, area = chip.bounding_box(), canvas.bounding_box()
        with page.expect_response(lambda r: r.url.endswith("/workflows/palette/stripe.GetCustomers/")) as fetched:
            page.mouse.move(start["x"] + 10, start["y"] + 8)
            page.mouse.down()
            page.mouse.move(area["x"] + 250, area["y"] + 120, steps=8)
            page.mouse.up()
        assert fetched.value.status == 200
        expect(builder.locator('[data-node="getcustomers"]')).to_be_visible()
        expect(builder.get_by_label("credential *")).to_be_visible()
        expect(builder.get_by_label("email", exact=True)).to_be_visible()
        expect(builder.locator(".builder-panel")).to_contain_text("GET /v1/customers")
    finally:
        context.close()
