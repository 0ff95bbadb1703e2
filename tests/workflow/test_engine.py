"""The engine, step by step (drain() runs what a worker would): each built-in node, the actions,
retries, failures with their reasons, the error port, limits, cancel and re-run, approvals,
sub-workflows, and a node type that has gone."""

import signal
import time

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.core.registry import WorkflowNode, registry
from apps.events.models import Event
from apps.notifications.models import Notification
from apps.workflow import engine, services
from apps.workflow.models import Approval, StepRun, WorkflowRun
from tests.conftest import committed
from tests.factories import MembershipFactory
from tests.notifications.receiver import Receiver
from tests.workflow.conftest import drain, graph_of, make_workflow, steps_of


def start(tenant, graph, inputs=None, actor=None, **limits):
    workflow = make_workflow(tenant, graph, actor=actor, **limits)
    return services.run_manual(tenant=tenant, workflow=workflow, inputs=inputs or {}, actor=actor)


def test_a_condition_branches_and_the_run_is_pinned_to_its_version(tenant_a, owner_a):
    graph = graph_of(
        ("check", "condition", {"conditions": {"attr": "trigger.amount", "op": "gt", "value": 100}}),
        ("big", "set", {"values": {"size": "big"}}),
        ("small", "set", {"values": {"size": "small"}}),
        edges=[("check", "true", "big"), ("check", "false", "small")],
    )
    with tenant_context(tenant_a):
        run = drain(start(tenant_a, graph, {"amount": 250}, owner_a))
        assert run.status == "succeeded", run.error
        assert run.variables == {"size": "big"}
        steps = steps_of(run)
        assert steps[("check", "")].port == "true" and steps[("check", "")].output == {"result": True}
        assert ("small", "") not in steps
        assert run.version.number == 1
        types = set(Event.objects.filter(payload__run_id=run.pk).values_list("type", flat=True))
        assert types == {"workflow.run_started", "workflow.run_succeeded"}


def test_a_published_version_never_changes_and_a_new_draft_does_not_touch_running_work(tenant_a):
    graph = graph_of(("a", "set", {"values": {"v": 1}}))
    with tenant_context(tenant_a):
        workflow = make_workflow(tenant_a, graph)
        run = services.run_manual(tenant=tenant_a, workflow=workflow)
        services.workflow_update(tenant=tenant_a, workflow=workflow, graph=graph_of(("a", "set", {"values": {"v": 2}})))
        services.workflow_publish(tenant=tenant_a, workflow=workflow)
        assert drain(run).variables == {"v": 1}  # pinned to version 1
        version = run.version
        version.note = "changed"
        with pytest.raises(ValueError, match="immutable"):
            version.save()
        assert drain(services.run_manual(tenant=tenant_a, workflow=workflow)).variables == {"v": 2}


def test_switch_loop_transform_and_templates(tenant_a):
    graph = graph_of(
        ("kind", "switch", {"value": "trigger.kind", "cases": [{"port": "order", "value": "order"}]}),
        ("each", "loop", {"items": "trigger.lines"}),
        ("price", "transform", {"fields": {"total": "item.qty", "sku": "item.sku"}}),
        ("label", "set", {"values": {"last": "{{ item.sku }} #{{ index }}"}}),
        ("sum", "transform", {"expression": "steps.each.results[*].last"}),
        ("other", "set", {"values": {"other": True}}),
        edges=[
            ("kind", "order", "each"),
            ("kind", "default", "other"),
            ("each", "item", "price"),
            ("price", "out", "label"),
            ("each", "done", "sum"),
        ],
    )
    with tenant_context(tenant_a):
        data = {"kind": "order", "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 5}]}
        run = drain(start(tenant_a, graph, data))
        assert run.status == "succeeded", run.error
        steps = steps_of(run)
        assert steps[("price", "each[0]")].output == {"total": 2, "sku": "A"}
        assert steps[("price", "each[1]")].output == {"total": 5, "sku": "B"}
        assert {steps[("label", f"each[{i}]")].output["last"] for i in (0, 1)} == {"A #0", "B #1"}
        assert steps[("sum", "")].output == ["A #0", "B #1"]  # each iteration's last output, in order
        assert steps[("each", "")].port == "done"
        assert ("other", "") not in steps


def test_a_loop_over_nothing_goes_straight_to_done(tenant_a):
    graph = graph_of(
        ("each", "loop", {"items": "trigger.none"}),
        ("body", "set", {"values": {"ran": True}}),
        ("after", "set", {"values": {"after": True}}),
        edges=[("each", "item", "body"), ("each", "done", "after")],
    )
    with tenant_context(tenant_a):
        run = drain(start(tenant_a, graph, {}))
        assert run.status == "succeeded" and run.variables == {"after": True}


def test_parallel_branches_meet_at_the_join_once(tenant_a):
    graph = graph_of(
        ("fork", "parallel"),
        ("left", "set", {"values": {"left": 1}}),
        ("right", "wait", {"seconds": 0}),
        ("join", "join"),
        ("after", "transform", {"expression": "vars"}),
        edges=[
            ("fork", "out", "left"),
            ("fork", "out", "right"),
            ("left", "out", "join"),
            ("right", "out", "join"),
            ("join", "out", "after"),
        ],
    )
    with tenant_context(tenant_a):
        run = drain(start(tenant_a, graph))
        assert run.status == "succeeded", run.error
        assert StepRun.objects.filter(run=run, node_id="join").count() == 1
        assert StepRun.objects.filter(run=run, node_id="after").count() == 1
        assert steps_of(run)[("join", "")].output == {"arrived": ["left", "right"]}


def test_a_wait_holds_the_run_until_its_time(tenant_a):
    graph = graph_of(
        ("pause", "wait", {"seconds": 3600}),
        ("after", "set", {"values": {"done": True}}),
        edges=[("pause", "out", "after")],
    )
    with tenant_context(tenant_a):
        run = drain(start(tenant_a, graph), skip_waits=False)
        assert run.status == "running"
        pause = steps_of(run)[("pause", "")]
        assert pause.status == "waiting" and pause.not_before is not None
        assert engine.step_run(step_id=pause.pk) == "skipped"  # not yet: a task delivered early does nothing
        assert drain(run).status == "succeeded"


def _waiting_for_a_rename(tenant):
    graph = graph_of(
        (
            "hold",
            "wait",
            {
                "event": "organisation.settings_changed",
                "conditions": {"attr": "changes.name.new", "value": "{{ trigger.name }}"},
                "seconds": 3600,
            },
        ),
        ("after", "set", {"values": {"renamed_by": "{{ steps.hold.event.actor_id }}"}}),
        ("late", "set", {"values": {"late": True}}),
        edges=[("hold", "out", "after"), ("hold", "timeout", "late")],
    )
    run = drain(start(tenant, graph, {"name": "Beta"}), skip_waits=False)
    assert run.status == "running"
    return run


def _renamed(tenant, name, actor=None):
    from apps.core.events import publish

    event = publish(
        "organisation.settings_changed", {"changes": {"name": {"old": "A", "new": name}}}, tenant=tenant, actor=actor
    )
    services.workflows_for_events([event])  # what the dispatcher does with it


def test_a_wait_for_an_event_goes_on_when_a_matching_event_comes(tenant_a, owner_a):
    with tenant_context(tenant_a):
        _renamed(tenant_a, "Beta")  # before the wait began: not the one it waits for
        run = _waiting_for_a_rename(tenant_a)
        hold = steps_of(run)[("hold", "")]
        assert hold.status == "waiting" and hold.input["conditions"]["value"] == "Beta"  # filled from the run
        _renamed(tenant_a, "Gamma")  # its conditions do not hold
        assert steps_of(run)[("hold", "")].status == "waiting"
        _renamed(tenant_a, "Beta", actor=owner_a)
        hold = steps_of(run)[("hold", "")]
        assert hold.status == "succeeded" and hold.port == "out"
        assert hold.output["event"]["payload"]["changes"]["name"]["new"] == "Beta"
        run = drain(run)
        assert run.status == "succeeded" and run.variables == {"renamed_by": str(owner_a.pk)}
        assert ("late", "") not in steps_of(run)
        _renamed(tenant_a, "Beta")  # a second one finds nothing waiting
        assert StepRun.objects.filter(run=run).count() == 2


def test_a_wait_for_an_event_goes_on_by_timeout_when_its_time_runs_out(tenant_a):
    with tenant_context(tenant_a):
        run = _waiting_for_a_rename(tenant_a)
        run = drain(run)  # its time comes first
        assert run.status == "succeeded" and run.variables == {"late": True}
        assert steps_of(run)[("hold", "")].port == "timeout"
        _renamed(tenant_a, "Beta")  # too late: the step has gone on
        assert steps_of(run)[("hold", "")].port == "timeout"


def test_a_wait_for_an_event_of_no_such_type_or_with_bad_conditions_cannot_be_published(tenant_a):
    from django.core.exceptions import ValidationError

    with tenant_context(tenant_a):
        for parameters, where in (
            ({"event": "no.such_event"}, "parameters.event"),
            (
                {"event": "member.joined", "conditions": {"attr": "x", "op": "nearly", "value": 1}},
                "parameters.conditions",
            ),
            ({}, "parameters"),
        ):
            with pytest.raises(ValidationError) as caught:
                make_workflow(tenant_a, graph_of(("hold", "wait", parameters)))
            assert list(caught.value.message_dict) == [f"graph.nodes.0.{where}"]


def test_notify_reaches_members_by_address_and_role(tenant_a, owner_a):
    admin = MembershipFactory(tenant=tenant_a, role="admin").user
    graph = graph_of(
        ("tell", "workflow.notify", {"to": "{{ trigger.email }}", "role": "admin", "title": "Hello {{ trigger.name }}"})
    )
    with tenant_context(tenant_a):
        run = drain(start(tenant_a, graph, {"email": owner_a.email, "name": "Ann"}))
        assert run.status == "succeeded", run.error
        assert set(Notification.objects.filter(title="Hello Ann").values_list("user_id", flat=True)) == {
            owner_a.pk,
            admin.pk,
        }
        bad = drain(start(tenant_a, graph_of(("tell", "workflow.notify", {"to": "nobody@example.com", "title": "x"}))))
        assert bad.status == "failed"
        assert "“nobody@example.com” is not a member of this organisation" in bad.error


def test_call_http_sends_through_the_guarded_session_and_retries_a_5xx(tenant_a):
    with Receiver() as receiver, tenant_context(tenant_a):
        receiver.answer(503)
        receiver.answer(200, {"Content-Type": "application/json"}, b'{"ok": true, "id": 9}')
        graph = graph_of(
            (
                "call",
                "workflow.http",
                {
                    "method": "POST",
                    "url": receiver.url("/orders"),
                    "body": {"n": "{{ trigger.n }}"},
                    "retries": 2,
                    "backoff": 0,
                },
            ),
        )
        run = drain(start(tenant_a, graph, {"n": 4}))
        assert run.status == "succeeded", run.error
        step = steps_of(run)[("call", "")]
        assert step.attempts == 2 and step.output == {"status": 200, "body": {"ok": True, "id": 9}}
        first, second = receiver.requests
        assert first.body == b'{"n": "4"}'
        assert first.headers["idempotency-key"] == second.headers["idempotency-key"]  # a retry is the same call


def test_call_http_refuses_internal_addresses(tenant_a, settings):
    settings.HUB_WEBHOOK_ALLOW_LOOPBACK = False
    with tenant_context(tenant_a):
        run = drain(start(tenant_a, graph_of(("call", "workflow.http", {"url": "http://169.254.169.254/latest"}))))
        assert run.status == "failed"
        assert "may not be called" in run.error


def test_a_failing_step_fails_the_run_with_its_reason_unless_an_error_port_leads_on(tenant_a):
    with tenant_context(tenant_a):
        broken = graph_of(("bad", "transform", {"expression": "length(trigger.n)"}))
        run = drain(start(tenant_a, broken, {"n": 5}))
        assert run.status == "failed"
        assert run.error.startswith("The step “bad” (transform) failed: expression")
        assert Event.objects.filter(type="workflow.run_failed", payload__run_id=run.pk).exists()
        handled = graph_of(
            ("bad", "transform", {"expression": "length(trigger.n)"}),
            ("rescue", "set", {"values": {"rescued": "{{ steps.bad.error[:10] }}"}}),
            edges=[("bad", "error", "rescue")],
        )
        run = drain(start(tenant_a, handled, {"n": 5}))
        assert run.status == "succeeded" and run.variables == {"rescued": "expression"}


def test_a_runaway_cycle_is_stopped_by_the_step_limit_with_a_clear_reason(tenant_a):
    graph = graph_of(
        ("again", "wait", {"seconds": 0}),
        ("count", "set", {"values": {"n": 1}}),
        ("first", "set", {"values": {}}),
        edges=[("first", "out", "again"), ("again", "out", "count"), ("count", "out", "again")],
    )
    graph["nodes"][2]["parameters"] = {"values": {"start": True}}
    with tenant_context(tenant_a):
        run = drain(start(tenant_a, graph, step_limit=20))
        assert run.status == "failed"
        assert "Stopped after 20 steps" in run.error
        assert StepRun.objects.filter(run=run).count() == 20
        assert not StepRun.objects.filter(run=run, status__in=StepRun.OPEN).exists()


def test_cancel_stops_a_run_and_re_run_goes_on_from_the_failed_step(tenant_a):
    with tenant_context(tenant_a):
        waiting = drain(start(tenant_a, graph_of(("pause", "wait", {"seconds": 600}))), skip_waits=False)
        services.run_cancel(run=waiting)
        waiting.refresh_from_db()
        assert waiting.status == "cancelled"
        assert steps_of(waiting)[("pause", "")].status == "cancelled"
        with pytest.raises(Exception, match="nothing to cancel"):
            services.run_cancel(run=waiting)

        graph = graph_of(
            ("one", "set", {"values": {"one": 1}}),
            ("two", "transform", {"expression": "trigger.payload.value"}),
            ("three", "workflow.notify", {"to": "{{ steps.two }}", "title": "hi"}),
            edges=[("one", "out", "two"), ("two", "out", "three")],
        )
        run = drain(start(tenant_a, graph, {"payload": {"value": "nobody@example.com"}}))
        assert run.status == "failed"
        one = steps_of(run)[("one", "")]
        # Someone fixes what the step needs, then re-runs from the failed step.
        owner = tenant_a.memberships.get(role="owner").user
        WorkflowRun.objects.filter(pk=run.pk).update(trigger_data={"payload": {"value": owner.email}})
        run.refresh_from_db()
        StepRun.objects.filter(run=run, node_id="two").update(output=owner.email)
        services.run_retry(run=run)
        run = drain(run)
        assert run.status == "succeeded", run.error
        assert steps_of(run)[("one", "")].attempts == one.attempts == 1  # not repeated
        assert steps_of(run)[("three", "")].status == "succeeded"
        with pytest.raises(Exception, match="only a failed run"):
            services.run_retry(run=run)


def test_an_approval_waits_for_a_member_of_the_role_and_goes_on_by_the_decision(tenant_a, owner_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    admin = MembershipFactory(tenant=tenant_a, role="admin")
    graph = graph_of(
        ("ask", "approval", {"title": "Buy {{ trigger.what }}", "role": "admin"}),
        ("yes", "set", {"values": {"bought": True}}),
        ("no", "set", {"values": {"bought": False}}),
        edges=[("ask", "approved", "yes"), ("ask", "rejected", "no")],
    )
    with tenant_context(tenant_a):
        run = drain(start(tenant_a, graph, {"what": "a chair"}))
        assert run.status == "running"
        approval = Approval.objects.get(step__run=run)
        assert approval.title == "Buy a chair"
        assert Event.objects.filter(type="workflow.approval_requested", payload__approval_id=approval.pk).exists()
        with pytest.raises(Exception, match="not yours to decide"):
            services.approval_decide(approval=approval, membership=member, approve=True)
        services.approval_decide(approval=approval, membership=admin, approve=False, comment="too dear")
        run = drain(run)
        assert run.status == "succeeded" and run.variables == {"bought": False}
        assert steps_of(run)[("ask", "")].output["comment"] == "too dear"
        with pytest.raises(Exception, match="decided"):
            services.approval_decide(approval=approval, membership=admin, approve=True)


def test_an_approval_not_decided_in_time_goes_up_once_and_its_new_approver_decides(tenant_a, owner_a):
    from datetime import timedelta

    from django.utils import timezone

    member = MembershipFactory(tenant=tenant_a, role="member")
    admin = MembershipFactory(tenant=tenant_a, role="admin")
    graph = graph_of(
        (
            "ask",
            "approval",
            {"title": "Refund", "assignee": member.user.email, "escalate_after": 3600, "escalate_to": "owner"},
        ),
        ("yes", "set", {"values": {"refunded": True}}),
        edges=[("ask", "approved", "yes")],
    )
    with tenant_context(tenant_a):
        run = drain(start(tenant_a, graph))
        approval = Approval.objects.get(step__run=run)
        assert approval.assignee == member.user and approval.escalate_at > timezone.now() + timedelta(minutes=59)
        engine.runs_recover()  # not yet
        approval.refresh_from_db()
        assert approval.escalated_at is None and approval.assignee == member.user
        Approval.objects.filter(pk=approval.pk).update(escalate_at=timezone.now() - timedelta(seconds=1))
        engine.runs_recover()
        engine.runs_recover()  # once only
        approval.refresh_from_db()
        assert approval.escalated_at is not None and approval.assignee is None and approval.role == "owner"
        escalated = Event.objects.filter(type="workflow.approval_escalated", payload__approval_id=approval.pk)
        assert escalated.count() == 1 and escalated.get().payload["role"] == "owner"
        for membership in (member, admin):  # the member had it; an admin is below the owners
            with pytest.raises(Exception, match="not yours to decide"):
                services.approval_decide(approval=approval, membership=membership, approve=True)
        owner = owner_a.memberships.get(tenant=tenant_a)
        services.approval_decide(approval=approval, membership=owner, approve=True)
        assert drain(run).variables == {"refunded": True}


def test_an_escalation_names_a_number_of_seconds_and_a_member_who_is_there(tenant_a, owner_b):
    from django.core.exceptions import ValidationError

    with tenant_context(tenant_a):
        for parameters in ({"title": "x", "escalate_after": "soon"}, {"title": "x", "escalate_to": "owner"}):
            with pytest.raises(ValidationError) as caught:
                make_workflow(tenant_a, graph_of(("ask", "approval", parameters)))
            assert list(caught.value.message_dict) == ["graph.nodes.0.parameters.escalate_after"]
        for someone in ("nobody@example.com", owner_b.email):  # nobody; another organisation's owner
            graph = graph_of(("ask", "approval", {"title": "x", "escalate_after": 60, "escalate_to": someone}))
            run = drain(start(tenant_a, graph))
            assert run.status == "failed" and f"“{someone}” is not a member of this organisation" in run.error
        run = drain(start(tenant_a, graph_of(("ask", "approval", {"title": "x", "assignee": owner_b.pk}))))
        assert run.status == "failed" and not Approval.objects.filter(step__run=run).exists()


def test_a_sub_workflow_runs_and_hands_back_its_variables(tenant_a):
    with tenant_context(tenant_a):
        child = make_workflow(
            tenant_a, graph_of(("double", "set", {"values": {"twice": "{{ trigger.n * 2 }}"}})), name="Child"
        )
        graph = graph_of(
            ("call", "subworkflow", {"workflow": child.pk, "inputs": {"n": {"$expr": "trigger.n"}}}),
            ("use", "set", {"values": {"got": "{{ steps.call.variables.twice }}"}}),
            edges=[("call", "out", "use")],
        )
        run = drain(start(tenant_a, graph, {"n": 21}))
        assert run.status == "succeeded", run.error
        assert run.variables == {"got": "42"}
        assert WorkflowRun.objects.get(parent_step__run=run).trigger_data == {"n": 21}


def test_a_node_type_that_has_gone_is_flagged_and_its_runs_stop_with_the_reason(tenant_a):
    node = WorkflowNode("test.vanishing", "action", "Vanishing", run=lambda config, context: {"ok": True})
    registry.register_workflow_node(node)
    try:
        with tenant_context(tenant_a):
            workflow = make_workflow(tenant_a, graph_of(("v", "test.vanishing")))
            assert drain(services.run_manual(tenant=tenant_a, workflow=workflow)).status == "succeeded"
    finally:
        registry["workflow_nodes"].remove(node)
    from apps.workflow.selectors import workflow_health

    with tenant_context(tenant_a):
        workflow.refresh_from_db()
        assert workflow_health(workflow) == [
            "The published version uses node types no longer installed: test.vanishing.",
            "The draft uses node types no longer installed: test.vanishing.",
        ]
        run = drain(services.run_manual(tenant=tenant_a, workflow=workflow))
        assert run.status == "failed"
        assert "“test.vanishing” is no longer installed" in run.error


def test_registered_actions_run_with_their_config_and_context(tenant_a):
    seen = {}

    def act(*, config, context):
        seen.update(config=config, key=context["idempotency_key"], trigger=context["trigger"])
        return {"echo": config["text"]}

    node = WorkflowNode("test.echo", "action", "Echo", run=act, output_schema={"type": "object"})
    registry.register_workflow_node(node)
    try:
        with tenant_context(tenant_a):
            run = drain(start(tenant_a, graph_of(("e", "test.echo", {"text": "hi {{ trigger.who }}"})), {"who": "Bo"}))
            step = steps_of(run)[("e", "")]
    finally:
        registry["workflow_nodes"].remove(node)
    assert run.status == "succeeded"
    assert seen["config"] == {"text": "hi Bo"} and seen["key"].endswith(f":wf-step:{step.pk}")
    assert step.output == {"echo": "hi Bo"}


@override_settings(HUB_WORKFLOW_TENANT_CONCURRENCY=2)
def test_runs_over_the_limits_wait_queued_and_start_as_places_free(tenant_a):
    graph = graph_of(("pause", "wait", {"seconds": 600}))
    with tenant_context(tenant_a):
        one = make_workflow(tenant_a, graph, name="One", max_concurrent_runs=1)
        two = make_workflow(tenant_a, graph, name="Two")
        a = services.run_manual(tenant=tenant_a, workflow=one)
        b = services.run_manual(tenant=tenant_a, workflow=one)  # its workflow allows one at a time
        c = services.run_manual(tenant=tenant_a, workflow=two)
        d = services.run_manual(tenant=tenant_a, workflow=two)  # the tenant allows two
        statuses = lambda: [WorkflowRun.objects.get(pk=r.pk).status for r in (a, b, c, d)]  # noqa: E731
        assert statuses() == ["running", "queued", "running", "queued"]
        services.run_cancel(run=a)
        engine.runs_admit()
        assert statuses() == ["cancelled", "running", "running", "queued"]


def test_a_manual_run_needs_its_required_inputs_and_a_published_enabled_workflow(tenant_a):
    graph = graph_of(
        ("a", "set", {"values": {"x": "{{ trigger.email }}"}}),
        trigger={"type": "manual", "inputs": [{"name": "email", "required": True}]},
    )
    with tenant_context(tenant_a):
        workflow = make_workflow(tenant_a, graph)
        with pytest.raises(Exception) as caught:
            services.run_manual(tenant=tenant_a, workflow=workflow, inputs={})
        assert caught.value.message_dict == {"inputs.email": ["This input is required."]}
        services.workflow_update(tenant=tenant_a, workflow=workflow, enabled=False)
        with pytest.raises(Exception, match="paused"):
            services.run_manual(tenant=tenant_a, workflow=workflow, inputs={"email": "a@b.c"})
        draft = services.workflow_create(tenant=tenant_a, name="Unpublished", graph=graph)
        with pytest.raises(Exception, match="Publish the workflow"):
            services.run_manual(tenant=tenant_a, workflow=draft, inputs={"email": "a@b.c"})


@pytest.mark.parametrize("hang", ["loop", "sleep"])
def test_a_node_that_hangs_in_python_is_stopped_at_its_timeout_and_retried(tenant_a, hang):
    calls = []

    def act(*, config, context):
        calls.append(1)
        if hang == "sleep":
            time.sleep(60)  # a call without a timeout of its own
        while True:  # pure Python: no I/O to time out
            pass

    node = WorkflowNode("test.hang", "action", "Hang", run=act)
    registry.register_workflow_node(node)
    try:
        with tenant_context(tenant_a):
            run = start(tenant_a, graph_of(("h", "test.hang", {"timeout": 0.2, "retries": 1, "backoff": 0})))
            step = StepRun.objects.get(run=run)
            started = time.monotonic()
            assert engine.step_run(step_id=step.pk) == "pending"  # its one retry is due
            assert engine.step_run(step_id=step.pk) == "failed"
            assert time.monotonic() - started < 10
            step.refresh_from_db()
            run.refresh_from_db()
    finally:
        registry["workflow_nodes"].remove(node)
    assert calls == [1, 1] and step.attempts == 2
    assert step.error == "timed out after 0.2 s"
    assert run.status == "failed" and "The step “h” (test.hang) failed: timed out after 0.2 s" in run.error
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no timer left behind


def test_a_step_delivered_twice_runs_once(tenant_a):
    calls = []
    node = WorkflowNode("test.count", "action", "Count", run=lambda config, context: calls.append(1) or {})
    registry.register_workflow_node(node)
    try:
        with tenant_context(tenant_a):
            run = start(tenant_a, graph_of(("c", "test.count")))
            step = StepRun.objects.get(run=run)
            assert engine.step_run(step_id=step.pk) == "succeeded"
            assert engine.step_run(step_id=step.pk) == "skipped"
    finally:
        registry["workflow_nodes"].remove(node)
    assert calls == [1]


def test_the_recovery_sweep_frees_a_step_whose_worker_died(tenant_a):
    from datetime import timedelta

    from django.utils import timezone

    with tenant_context(tenant_a):
        run = start(tenant_a, graph_of(("a", "set", {"values": {"a": 1}})))
        step = engine.step_claim(step_id=StepRun.objects.get(run=run).pk)  # claimed, then the worker dies
        assert step.status == "running" and step.attempts == 1
        StepRun.objects.filter(pk=step.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        assert engine.runs_recover() >= 1
        assert StepRun.objects.get(pk=step.pk).status == "pending"
        run = drain(run)
        assert run.status == "succeeded" and StepRun.objects.get(pk=step.pk).attempts == 2


def _sent_steps(tenant, work) -> tuple[object, list[int]]:
    """work() on a thread whose writes commit (so steps are sent), and the run_step tasks it sent.
    The tasks are thrown away after, with the outbox's dispatch (whose queued flag is cleared, as
    the task would have, so that later tests' events are sent)."""
    from celery.signals import before_task_publish

    from apps.events.queue import task_started
    from apps.events.services import DISPATCH_KEY
    from config.celery import app

    sent = []

    def record(sender=None, body=None, **kwargs):
        if sender == "apps.workflow.tasks.run_step":
            sent.append(body[0][0])

    before_task_publish.connect(record)
    try:
        return committed(work), sent
    finally:
        before_task_publish.disconnect(record)
        app.control.purge()
        task_started(schema_name=tenant.schema_name, key=DISPATCH_KEY)


def test_the_quick_steps_after_a_step_run_in_its_task_and_the_others_are_sent(tenant_a):
    calls = []
    node = WorkflowNode("test.count", "action", "Count", run=lambda config, context: calls.append(1) or {})
    registry.register_workflow_node(node)
    graph = graph_of(
        ("check", "condition", {"conditions": {"attr": "trigger.n", "op": "gt", "value": 1}}),
        ("shape", "transform", {"fields": {"twice": "trigger.n"}}),
        ("keep", "set", {"values": {"n": "{{ steps.shape.twice }}"}}),
        ("count", "test.count"),
        edges=[("check", "true", "shape"), ("shape", "out", "keep"), ("keep", "out", "count")],
    )

    def started():
        with tenant_context(tenant_a):
            return start(tenant_a, graph, {"n": 2})

    def first_task(run):
        with tenant_context(tenant_a):
            result = engine.steps_run(step_id=StepRun.objects.get(run=run, node_id="check").pk)
            return result, {s.node_id: (s.status, s.pk) for s in StepRun.objects.filter(run=run)}

    run, sent = _sent_steps(tenant_a, started)
    try:
        assert len(sent) == 1  # the first step, as a task
        (result, statuses), sent = _sent_steps(tenant_a, lambda: first_task(run))
        # check, shape and keep ran in the task; the action (any I/O) goes as a task of its own.
        assert result == "succeeded" and calls == []
        assert {node_id: status for node_id, (status, _) in statuses.items()} == {
            "check": "succeeded",
            "shape": "succeeded",
            "keep": "succeeded",
            "count": "pending",
        }
        assert sent == [statuses["count"][1]]
    finally:
        registry["workflow_nodes"].remove(node)
        committed(_deleted(tenant_a, run))


@override_settings(HUB_WORKFLOW_INLINE_STEPS=4)
def test_a_task_runs_at_most_its_budget_of_quick_steps_and_sends_the_rest(tenant_a):
    graph = graph_of(
        ("each", "loop", {"items": "trigger.items"}),
        ("keep", "set", {"values": {"last": "{{ item }}"}}),
        edges=[("each", "item", "keep")],
    )

    def started():
        with tenant_context(tenant_a):
            return start(tenant_a, graph, {"items": list(range(10))})

    def first_task(run):
        with tenant_context(tenant_a):
            engine.steps_run(step_id=StepRun.objects.get(run=run, node_id="each").pk)
            return list(StepRun.objects.filter(run=run, node_id="keep", status="pending").values_list("pk", flat=True))

    run, _ = _sent_steps(tenant_a, started)
    try:
        pending, sent = _sent_steps(tenant_a, lambda: first_task(run))
        # The loop and three of its items ran; the seven items left were sent, none lost.
        assert len(pending) == 7 and sorted(sent) == sorted(pending)
    finally:
        committed(_deleted(tenant_a, run))


def _deleted(tenant, run):
    def delete():
        with tenant_context(tenant):  # and its events, which later tests' dispatches would find
            Event.objects.filter(payload__workflow_id=run.workflow_id).delete()
            WorkflowRun.objects.filter(workflow=run.workflow).delete()
            run.workflow.delete()

    return delete
