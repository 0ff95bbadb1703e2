"""The workflow pages: the list and a new workflow from a template, a workflow's page (draft as
JSON with its errors, the structured published graph, versions, runs, publish, pause, run now,
delete), the run log and a run's view with each step's data, the approvals inbox; roles and
another tenant's ids."""

import json

from django_tenants.utils import tenant_context

from apps.workflow import services
from apps.workflow.models import Approval, Workflow, WorkflowRun
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.workflow.conftest import drain, graph_of, make_workflow


def test_an_admin_makes_a_workflow_from_a_template_and_sees_it_listed(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    page = client.get("/workflows/").content.decode()
    assert 'href="/workflows/"' in page and "Welcome a new member" in page
    response = client.post("/workflows/new/", {"template": "notify-document-upload", "name": ""})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        workflow = Workflow.objects.get(template="notify-document-upload")
    assert response["Location"] == f"/workflows/{workflow.pk}/"
    listed = client.get("/workflows/").content.decode()
    assert "Notify on document upload" in listed and "When: Document uploaded" in listed
    export = client.get("/workflows/", {"_export": "csv"})
    assert b"Notify on document upload" in b"".join(export.streaming_content)
    blank = client.post("/workflows/new/", {"template": "", "name": " "})
    assert blank.status_code == 400 and "Give the workflow a name" in blank.content.decode()


def test_the_workflow_page_saves_the_draft_shows_its_problems_and_publishes(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    workflow = make_workflow(tenant_a, graph_of(("hello", "set", {"values": {"a": 1}})), name="Page test")
    page = client.get(f"/workflows/{workflow.pk}/").content.decode()
    assert "Published graph (version 1)" in page and 'data-node="hello"' in page and "Set variables" in page
    assert 'id="builder"' in page  # the visual builder's place
    form = {"name": "Page test", "description": "", "max_concurrent_runs": 5, "step_limit": 500}
    broken = client.post(f"/workflows/{workflow.pk}/save/", {**form, "graph": "{not json"})
    assert broken.status_code == 400 and "Not valid JSON" in broken.content.decode()
    bad_graph = graph_of(("hello", "set", {"values": {"a": 1}}), edges=[("hello", "out", "ghost")])
    assert client.post(f"/workflows/{workflow.pk}/save/", {**form, "graph": json.dumps(bad_graph)}).status_code == 302
    page = client.get(f"/workflows/{workflow.pk}/").content.decode()
    assert "Before it can be published" in page and "no node “ghost”: the edge dangles" in page
    client.post(f"/workflows/{workflow.pk}/publish/")
    assert "The draft cannot be published" in client.get(f"/workflows/{workflow.pk}/").content.decode()
    good = graph_of(("hello", "set", {"values": {"a": 2}}))
    client.post(f"/workflows/{workflow.pk}/save/", {**form, "graph": json.dumps(good)})
    client.post(f"/workflows/{workflow.pk}/publish/")
    with tenant_context(tenant_a):
        assert Workflow.objects.get(pk=workflow.pk).published.number == 2
    client.post(f"/workflows/{workflow.pk}/switch/", {"enabled": "off"})
    assert "Paused" in client.get(f"/workflows/{workflow.pk}/").content.decode()
    refused = client.post(f"/workflows/{workflow.pk}/run/", {"inputs": ""})
    assert refused.status_code == 400 and "paused" in refused.content.decode()


def test_a_run_is_started_on_its_page_and_shows_each_steps_data(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    graph = graph_of(
        ("hello", "set", {"values": {"greeting": "Hi {{ trigger.name }}"}}),
        ("bad", "transform", {"expression": "length(trigger.n)"}),
        edges=[("hello", "out", "bad")],
    )
    workflow = make_workflow(tenant_a, graph)
    assert client.post(f"/workflows/{workflow.pk}/run/", {"inputs": "[1]"}).status_code == 400
    response = client.post(f"/workflows/{workflow.pk}/run/", {"inputs": '{"name": "Ann", "n": 3}'})
    assert response.status_code == 302
    with tenant_context(tenant_a):
        run = drain(WorkflowRun.objects.get(workflow=workflow))
    page = client.get(f"/workflows/runs/{run.pk}/").content.decode()
    assert "Hi Ann" in page and 'data-status="failed"' in page and "The step “bad” (transform) failed" in page
    assert "Re-run from the failed step" in page
    assert client.post(f"/workflows/runs/{run.pk}/retry/").status_code == 302
    assert f"Run {run.pk}" in client.get("/workflows/runs/").content.decode()
    with tenant_context(tenant_a):
        run.refresh_from_db()
        assert run.status == "running"
    assert client.post(f"/workflows/runs/{run.pk}/cancel/").status_code == 302
    with tenant_context(tenant_a):
        run.refresh_from_db()
        assert run.status == "cancelled"
    assert client.post(f"/workflows/{workflow.pk}/delete/").status_code == 302
    with tenant_context(tenant_a):
        assert not Workflow.objects.filter(pk=workflow.pk).exists()


def test_the_approvals_inbox_shows_what_one_may_decide(tenant_a, owner_a):
    member = MembershipFactory(tenant=tenant_a, role="member").user
    graph = graph_of(("ask", "approval", {"title": "Spend 100", "role": "admin"}))
    workflow = make_workflow(tenant_a, graph)
    with tenant_context(tenant_a):
        run = drain(services.run_manual(tenant=tenant_a, workflow=workflow))
        approval = Approval.objects.get(step__run=run)
    assert "Spend 100" not in client_for(tenant_a, member).get("/workflows/approvals/").content.decode()
    assert (
        client_for(tenant_a, member)
        .post(f"/workflows/approvals/{approval.pk}/decide/", {"decision": "approve"})
        .status_code
        == 302
    )
    with tenant_context(tenant_a):
        assert Approval.objects.get(pk=approval.pk).status == "pending"  # not the member's to decide
    owner = client_for(tenant_a, owner_a)
    assert "Spend 100" in owner.get("/workflows/approvals/").content.decode()
    owner.post(f"/workflows/approvals/{approval.pk}/decide/", {"decision": "approve"})
    with tenant_context(tenant_a):
        assert Approval.objects.get(pk=approval.pk).status == "approved"
        assert drain(run).status == "succeeded"


def test_viewers_read_but_cannot_change_and_another_tenant_sees_nothing(tenant_a, tenant_b, owner_b):
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    workflow = make_workflow(tenant_a, graph_of(("ask", "approval", {"title": "Only in alpha"})))
    with tenant_context(tenant_a):
        run = drain(services.run_manual(tenant=tenant_a, workflow=workflow))
        approval = Approval.objects.get(step__run=run)
    as_viewer = client_for(tenant_a, viewer)
    assert as_viewer.get(f"/workflows/{workflow.pk}/").status_code == 200
    assert as_viewer.post(f"/workflows/{workflow.pk}/publish/").status_code == 403
    assert as_viewer.post(f"/workflows/{workflow.pk}/run/").status_code == 403
    assert as_viewer.get("/workflows/approvals/").status_code == 403
    b = client_for(tenant_b, owner_b)
    for path in (f"/workflows/{workflow.pk}/", f"/workflows/runs/{run.pk}/"):
        assert b.get(path).status_code == 404
    for path in (
        f"/workflows/{workflow.pk}/delete/",
        f"/workflows/runs/{run.pk}/cancel/",
        f"/workflows/approvals/{approval.pk}/decide/",
    ):
        assert b.post(path, {"decision": "approve"}).status_code == 404
    assert "Only in alpha" not in b.get("/workflows/approvals/").content.decode()
    assert "Only in alpha" not in b.get("/workflows/").content.decode()
