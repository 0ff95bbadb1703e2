"""What the builder asks the server while a graph is edited: its problems (the checks publishing
makes, with the node each is about and in words) and a test run of the canvas's graph with a
sample of its trigger's data (a snapshot of the graph run by the engine, followed step by step;
stopping where it would wait); roles and another tenant's ids."""

import json

from django_tenants.utils import tenant_context

from apps.events.models import Event
from apps.workflow import selectors
from apps.workflow.models import Approval, Workflow, WorkflowRun, WorkflowVersion
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.workflow.conftest import drain, graph_of, make_workflow


def _draft(tenant, graph=None, name="Builder test"):
    from apps.workflow import services

    with tenant_context(tenant):
        return services.workflow_create(tenant=tenant, name=name, graph=graph)


def _post(client, path, **fields):
    return client.post(path, {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()})


GREETER = graph_of(
    ("hello", "set", {"values": {"greeting": "Hello {{ trigger.who }}"}}),
    ("tell", "workflow.notify", {"title": "{{ vars.greeting }}", "role": "owner"}),
    ("shout", "transform", {"expression": "vars.greeting"}),
    edges=[("hello", "out", "tell")],
    trigger={"type": "manual", "inputs": [{"name": "who", "required": True}]},
)
GREETER["edges"].append({"from": "hello", "port": "error", "to": "shout"})


def test_the_builder_s_check_names_each_problem_s_node_in_words(tenant_a, owner_a):
    workflow = _draft(tenant_a)
    client = client_for(tenant_a, owner_a)
    broken = graph_of(
        ("hello", "set", {"values": {"a": 1}}),
        ("tell", "workflow.notify", {}),
        ("ask", "approval", {}),
        edges=[("hello", "out", "tell"), ("hello", "out", "ghost"), ("ask", "approved", "ask")],
        trigger={"type": "event", "event_type": "member.joined"},
    )
    answer = _post(client, f"/workflows/{workflow.pk}/check/", graph=broken)
    assert answer.status_code == 200
    problems = answer.json()["problems"]
    by_where = {p["where"]: p for p in problems}
    assert by_where["nodes.2.parameters.title"] == {
        "where": "nodes.2.parameters.title",
        "node": "ask",
        "text": "Step “ask”, title: this parameter is required",
    }
    assert by_where["edges.1.to"]["node"] == "hello"
    assert by_where["edges.1.to"]["text"] == "The connection hello (out) → ghost: no node “ghost”: the edge dangles"
    assert by_where["nodes.ask"]["text"] == "Step “ask”: “ask” cannot be reached from the start"
    # The same checks as publishing's, no second copy: what the check says is what publishing refuses.
    from apps.workflow.graph import graph_problems

    assert [p["where"] for p in problems] == [where for where, _ in graph_problems(broken)]
    # An event trigger's sample is made from its event type's payload schema.
    sample = answer.json()["sample"]
    assert set(sample) == {"membership_id", "user_id", "email", "role"}

    good = _post(client, f"/workflows/{workflow.pk}/check/", graph=GREETER).json()
    assert good == {"problems": [], "sample": {"who": ""}}
    trigger = _post(client, f"/workflows/{workflow.pk}/check/", graph={"trigger": {"type": "when"}, "nodes": []})
    assert [p["text"] for p in trigger.json()["problems"]] == [
        "The trigger, type: choose a trigger: event, schedule, manual, webhook",
        "The workflow: a workflow has at least one node",
    ]
    not_json = client.post(f"/workflows/{workflow.pk}/check/", {"graph": "{nodes"})
    assert not_json.status_code == 400 and not_json.json()["errors"]["graph"][0].startswith("Not valid JSON")


def test_a_test_run_runs_the_canvas_s_graph_unsaved_and_shows_each_node_s_data(tenant_a, owner_a):
    workflow = _draft(tenant_a)  # a blank draft, never published: the canvas has the graph
    client = client_for(tenant_a, owner_a)
    started = _post(client, f"/workflows/{workflow.pk}/test/", graph=GREETER, sample='{"who": "Ada"}')
    assert started.status_code == 202 and started.json()["status"] == "running"
    run_id, url = started.json()["run_id"], started.json()["url"]
    assert url == f"/workflows/{workflow.pk}/test/{run_id}/"
    assert client.get(url).json()["active"] is True
    with tenant_context(tenant_a):
        run = WorkflowRun.objects.get(pk=run_id)
        assert run.is_test and run.version.test and run.version.graph == GREETER
        drain(run)
        workflow.refresh_from_db()
        assert workflow.draft["nodes"] == [] and workflow.published is None  # nothing saved, nothing published
        assert list(selectors.workflow_versions(workflow=workflow)) == []  # the snapshot is not a version
        assert not Event.objects.filter(type__startswith="workflow.run_", payload__run_id=run_id).exists()
    shown = client.get(url).json()
    assert (shown["status"], shown["label"], shown["active"]) == ("succeeded", "Succeeded", False)
    assert shown["nodes"]["hello"]["output"] == {"greeting": "Hello Ada"}
    assert shown["nodes"]["tell"]["status"] == "succeeded"
    assert shown["nodes"]["tell"]["input"]["title"] == "Hello Ada"  # rendered: the input it ran with
    assert shown["nodes"]["tell"]["output"]["notified"] == [owner_a.pk]  # the action ran for real
    assert "shout" not in shown["nodes"]  # not on the path taken
    assert shown["url"] == f"/workflows/runs/{run_id}/"
    page = client.get(shown["url"]).content.decode()
    assert "A test run of the draft, from the builder" in page
    assert "a test from the builder" in client.get("/workflows/runs/").content.decode()


def test_a_test_run_stops_where_it_would_wait_and_asks_nobody(tenant_a, owner_a):
    graph = graph_of(
        ("hello", "set", {"values": {"a": 1}}),
        ("ask", "approval", {"title": "Spend it?", "role": "admin"}),
        ("paid", "set", {"values": {"paid": True}}),
        edges=[("hello", "out", "ask"), ("ask", "approved", "paid")],
    )
    workflow = _draft(tenant_a, graph)
    client = client_for(tenant_a, owner_a)
    run_id = _post(client, f"/workflows/{workflow.pk}/test/", graph=graph, sample="{}").json()["run_id"]
    with tenant_context(tenant_a):
        drain(WorkflowRun.objects.get(pk=run_id))
        assert not Approval.objects.filter(step__run_id=run_id).exists()
        assert not Event.objects.filter(type="workflow.approval_requested").exists()
    shown = client.get(f"/workflows/{workflow.pk}/test/{run_id}/").json()
    assert shown["status"] == "succeeded" and shown["reason"] == "A test run stops where it would wait: at “ask”."
    assert (shown["nodes"]["ask"]["status"], shown["nodes"]["ask"]["label"]) == ("would_wait", "Would wait")
    assert shown["nodes"]["ask"]["output"] == {"would_wait": "A test run asks nobody for approval: it stops here."}
    assert "paid" not in shown["nodes"]


def test_a_test_run_refuses_bad_samples_and_graphs_with_problems_in_words(tenant_a, owner_a):
    workflow = _draft(tenant_a)
    client = client_for(tenant_a, owner_a)
    path = f"/workflows/{workflow.pk}/test/"
    not_json = _post(client, path, graph=GREETER, sample='{"who": Ada}')
    assert not_json.status_code == 400
    assert not_json.json()["errors"]["sample"][0].startswith("Not valid JSON: Expecting value")
    a_list = _post(client, path, graph=GREETER, sample="[1, 2]")
    assert a_list.json()["errors"] == {"sample": ["This is a JSON object: {…}."]}
    missing = _post(client, path, graph=GREETER, sample="{}")
    assert missing.status_code == 400 and missing.json()["errors"] == {"sample": ["Fill in the required input “who”."]}
    broken = graph_of(("tell", "set", {}), edges=[("tell", "out", "ghost")])
    refused = _post(client, path, graph=broken, sample="{}")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"graph": ["The draft has 2 problems to mend first."]}
    assert [p["node"] for p in refused.json()["problems"]] == ["tell", "tell"]
    with tenant_context(tenant_a):
        assert not WorkflowRun.objects.filter(workflow=workflow).exists()
        assert not WorkflowVersion.objects.filter(workflow=workflow).exists()


def test_a_test_run_waits_its_turn_and_old_test_runs_go(tenant_a, owner_a, settings):
    workflow = make_workflow(tenant_a, graph_of(("hello", "set", {"values": {"a": 1}})), max_concurrent_runs=1)
    client = client_for(tenant_a, owner_a)
    with tenant_context(tenant_a):
        from apps.workflow import services

        busy = services.run_manual(tenant=tenant_a, workflow=workflow)
        busy.refresh_from_db()
        assert busy.status == "running"
    graph = graph_of(("hello", "set", {"values": {"a": 2}}))
    queued = _post(client, f"/workflows/{workflow.pk}/test/", graph=graph, sample="{}")
    assert queued.json()["status"] == "queued"  # the workflow's limit holds for tests too
    with tenant_context(tenant_a):
        drain(busy)
        drain(WorkflowRun.objects.get(pk=queued.json()["run_id"]))
    for _ in range(11):
        run_id = _post(client, f"/workflows/{workflow.pk}/test/", graph=graph, sample="{}").json()["run_id"]
        with tenant_context(tenant_a):
            drain(WorkflowRun.objects.get(pk=run_id))
    with tenant_context(tenant_a):
        assert WorkflowRun.objects.filter(workflow=workflow, trigger="test").count() == 10
        assert WorkflowVersion.objects.filter(workflow=workflow, test=True).count() == 10
        assert WorkflowRun.objects.filter(pk=busy.pk).exists()  # real runs are never pruned
        assert Workflow.objects.get(pk=workflow.pk).published.number == 1


def test_viewers_may_not_check_or_test_and_another_tenant_finds_nothing(tenant_a, tenant_b, owner_a, owner_b):
    workflow = make_workflow(tenant_a, GREETER)
    owner = client_for(tenant_a, owner_a)
    run_id = _post(owner, f"/workflows/{workflow.pk}/test/", graph=GREETER, sample='{"who": "A"}').json()["run_id"]
    with tenant_context(tenant_a):
        from apps.workflow import services

        real = services.run_manual(tenant=tenant_a, workflow=workflow, inputs={"who": "B"})
    assert owner.get(f"/workflows/{workflow.pk}/test/{real.pk}/").status_code == 404  # not a test run
    viewer = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="viewer").user)
    member = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="member").user)
    other = client_for(tenant_b, owner_b)
    for client, status in ((viewer, 403), (member, 403), (other, 404)):
        assert _post(client, f"/workflows/{workflow.pk}/check/", graph=GREETER).status_code == status
        assert _post(client, f"/workflows/{workflow.pk}/test/", graph=GREETER, sample="{}").status_code == status
        assert client.get(f"/workflows/{workflow.pk}/test/{run_id}/").status_code == status
    with tenant_context(tenant_a):
        assert WorkflowRun.objects.filter(workflow=workflow, trigger="test").count() == 1
    assert owner.get(f"/workflows/{workflow.pk}/check/").status_code == 405
