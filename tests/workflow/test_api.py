"""/api/v1/workflows/: workflows, publishing (422 naming the graph's problems), versions, manual
runs, the run log with each step, cancel and re-run, approvals, node types; scopes, roles and
another tenant's ids."""

from django_tenants.utils import tenant_context

from apps.workflow.models import Approval, WorkflowRun
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.workflow.conftest import drain, graph_of, make_workflow

GOOD = graph_of(("hello", "set", {"values": {"greeting": "Hello {{ trigger.name }}"}}))


def test_a_workflow_is_drafted_published_run_and_its_run_read_through_the_api(tenant_a):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["workflows:write"])[1])
    created = client.post("/api/v1/workflows/", {"name": "Greeter", "draft": GOOD}, content_type="application/json")
    assert created.status_code == 201, created.content
    workflow = created.json()
    assert workflow["published_version"] is None and workflow["needs_attention"] == []
    path = f"/api/v1/workflows/{workflow['id']}/"

    published = client.post(path + "publish/", {"note": "first"}, content_type="application/json")
    assert published.status_code == 201 and published.json()["number"] == 1
    started = client.post(path + "run/", {"inputs": {"name": "Ann"}}, content_type="application/json")
    assert started.status_code == 202, started.content
    run_id = started.json()["id"]
    with tenant_context(tenant_a):
        drain(WorkflowRun.objects.get(pk=run_id))
    run = client.get(f"/api/v1/workflows/runs/{run_id}/").json()
    assert run["status"] == "succeeded" and run["version"] == 1
    [step] = run["steps"]
    assert step["node_id"] == "hello" and step["output"] == {"greeting": "Hello Ann"} and step["attempts"] == 1
    assert [r["id"] for r in client.get("/api/v1/workflows/runs/", {"workflow": workflow["id"]}).json()["results"]] == [
        run_id
    ]
    assert [v["number"] for v in client.get(path + "versions/").json()] == [1]


def test_an_invalid_graph_is_refused_naming_each_problem(tenant_a):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["workflows:write"])[1])
    bad = graph_of(("a", "teleport"), ("b", "set", {"values": {"b": 1}}), edges=[("b", "out", "ghost")])
    workflow = client.post("/api/v1/workflows/", {"name": "Bad", "draft": bad}, content_type="application/json").json()
    response = client.post(f"/api/v1/workflows/{workflow['id']}/publish/", {}, content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"graph.nodes.0.type", "graph.edges.0.to"} <= fields
    assert client.post("/api/v1/workflows/", {"name": ""}, content_type="application/json").status_code in (400, 422)
    not_published = client.post(f"/api/v1/workflows/{workflow['id']}/run/", {}, content_type="application/json")
    assert not_published.status_code == 422 and "Publish the workflow" in not_published.json()["detail"]
    garbage = client.patch(f"/api/v1/workflows/{workflow['id']}/", {"draft": "x"}, content_type="application/json")
    assert garbage.status_code == 400 and garbage.json()["errors"][0]["field"] == "draft"


def test_templates_make_ready_workflows(tenant_a):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["workflows:write"])[1])
    made = client.post("/api/v1/workflows/", {"template": "welcome-member"}, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["published_version"] == 1 and made.json()["event_type"] == "member.joined"
    unknown = client.post("/api/v1/workflows/", {"template": "nope"}, content_type="application/json")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "template"
    listed = client.get("/api/v1/workflows/node-types/")
    types = {t["type"]: t for t in listed.json()}
    assert {"loop", "approval", "workflow.http"} <= set(types) and len(listed.content) < 1_000_000
    assert "config_schema" not in types["workflow.http"]  # schemas when asked: they weigh megabytes
    one = client.get("/api/v1/workflows/node-types/", {"key": "workflow.http"}).json()
    assert [t["type"] for t in one] == ["workflow.http"] and one[0]["config_schema"]["type"] == "object"
    expanded = client.get("/api/v1/workflows/node-types/", {"expand": "schemas"}).json()
    assert "config_schema" in next(t for t in expanded if t["type"] == "workflow.http")
    bad = client.get("/api/v1/workflows/node-types/", {"expand": "all"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "expand"


def test_cancel_retry_and_approvals_through_the_api(tenant_a, owner_a):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["workflows:write"])[1])
    graph = graph_of(
        ("ask", "approval", {"title": "Go?"}),
        ("done", "set", {"values": {"ok": 1}}),
        edges=[("ask", "approved", "done")],
    )
    workflow = make_workflow(tenant_a, graph)
    run_id = client.post(f"/api/v1/workflows/{workflow.pk}/run/", {}, content_type="application/json").json()["id"]
    with tenant_context(tenant_a):
        drain(WorkflowRun.objects.get(pk=run_id))
        approval = Approval.objects.get(step__run_id=run_id)
    listed = client.get("/api/v1/workflows/approvals/", {"status": "pending"}).json()["results"]
    assert [a["id"] for a in listed] == [approval.pk] and listed[0]["workflow"] == workflow.name
    bad = client.post(
        f"/api/v1/workflows/approvals/{approval.pk}/decide/", {"decision": "maybe"}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "decision"
    decided = client.post(
        f"/api/v1/workflows/approvals/{approval.pk}/decide/", {"decision": "approve"}, content_type="application/json"
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    with tenant_context(tenant_a):
        assert drain(WorkflowRun.objects.get(pk=run_id)).status == "succeeded"
    again = client.post(f"/api/v1/workflows/runs/{run_id}/cancel/", content_type="application/json")
    assert again.status_code == 422 and "nothing to cancel" in again.json()["detail"]
    not_failed = client.post(f"/api/v1/workflows/runs/{run_id}/retry/", content_type="application/json")
    assert not_failed.status_code == 422

    second = client.post(f"/api/v1/workflows/{workflow.pk}/run/", {}, content_type="application/json").json()["id"]
    cancelled = client.post(f"/api/v1/workflows/runs/{second}/cancel/", content_type="application/json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_roles_and_scopes_decide_who_may_do_what(tenant_a):
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    member = MembershipFactory(tenant=tenant_a, role="member").user
    workflow = make_workflow(tenant_a, GOOD)
    as_viewer = client_for(tenant_a, viewer)  # a viewer has no API key: the dashboard's session
    assert as_viewer.get("/api/v1/workflows/").status_code == 200
    assert (
        as_viewer.post(f"/api/v1/workflows/{workflow.pk}/run/", {}, content_type="application/json").status_code == 403
    )
    as_member = client_for(tenant_a, member)
    assert (
        as_member.post(f"/api/v1/workflows/{workflow.pk}/run/", {}, content_type="application/json").status_code == 202
    )
    assert (
        as_member.patch(f"/api/v1/workflows/{workflow.pk}/", {"name": "x"}, content_type="application/json").status_code
        == 403
    )
    read_only = api_client(tenant_a, make_key(tenant_a, scope_list=["workflows:read"])[1])
    assert (
        read_only.post(f"/api/v1/workflows/{workflow.pk}/run/", {}, content_type="application/json").status_code == 403
    )


def test_another_tenant_cannot_see_or_touch_a_workflow_its_runs_or_approvals(tenant_a, tenant_b):
    graph = graph_of(("ask", "approval", {"title": "Only in alpha"}))
    workflow = make_workflow(tenant_a, graph, name="Only in alpha")
    with tenant_context(tenant_a):
        from apps.workflow import services

        run = drain(services.run_manual(tenant=tenant_a, workflow=workflow))
        approval = Approval.objects.get(step__run=run)
    b = api_client(tenant_b, make_key(tenant_b)[1])
    for path in (
        f"/api/v1/workflows/{workflow.pk}/",
        f"/api/v1/workflows/runs/{run.pk}/",
        f"/api/v1/workflows/approvals/{approval.pk}/",
    ):
        assert b.get(path).status_code == 404
    assert b.post(f"/api/v1/workflows/{workflow.pk}/run/", {}, content_type="application/json").status_code == 404
    assert b.post(f"/api/v1/workflows/runs/{run.pk}/cancel/", content_type="application/json").status_code == 404
    decide = b.post(
        f"/api/v1/workflows/approvals/{approval.pk}/decide/", {"decision": "approve"}, content_type="application/json"
    )
    assert decide.status_code == 404
    assert "Only in alpha" not in b.get("/api/v1/workflows/").content.decode()
    with tenant_context(tenant_a):
        assert Approval.objects.get(pk=approval.pk).status == "pending"
        assert WorkflowRun.objects.get(pk=run.pk).status == "running"
