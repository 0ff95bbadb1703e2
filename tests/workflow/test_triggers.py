"""The four triggers: a domain event with a condition set (through the event spine's dispatcher),
a schedule in the tenant's time zone, a person's manual run (test_engine.py), and the incoming
webhook (secret URL, signature, rate limit, payload stored)."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.events.services import event_dispatch
from apps.workflow import services
from apps.workflow.graph import cron_matches, graph_problems
from apps.workflow.models import WorkflowRun
from apps.workflow.tasks import fire_schedules_all_tenants
from tests.conftest import client_for
from tests.workflow.conftest import drain, graph_of, make_workflow

ON_RENAME = {
    "type": "event",
    "event_type": "organisation.settings_changed",
    "conditions": {"and": [{"attr": "name", "op": "changed"}, {"not": {"attr": "changes.name.new", "value": "Old"}}]},
}


def _renamed(tenant, new):
    return publish("organisation.settings_changed", {"changes": {"name": {"old": "Old", "new": new}}}, tenant=tenant)


def test_an_event_that_meets_the_condition_starts_one_run_however_often_it_is_dispatched(tenant_a):
    graph = graph_of(("note", "set", {"values": {"now": "{{ trigger.changes.name.new }}"}}), trigger=ON_RENAME)
    with tenant_context(tenant_a):
        workflow = make_workflow(tenant_a, graph)
        promoted, demoted = _renamed(tenant_a, "New"), _renamed(tenant_a, "Old")
        assert event_dispatch(event_id=promoted.pk) and event_dispatch(event_id=demoted.pk)
        [run] = WorkflowRun.objects.filter(workflow=workflow)
        assert run.trigger == "event" and run.trigger_data["event"]["id"] == str(promoted.pk)
        assert drain(run).variables == {"now": "New"}
        # The dispatcher runs again (a retry after a crash): no second run for the same event.
        services.workflows_for_events([promoted])
        assert WorkflowRun.objects.filter(workflow=workflow).count() == 1
        services.workflow_update(tenant=tenant_a, workflow=workflow, enabled=False)
        event_dispatch(event_id=_renamed(tenant_a, "Newer").pk)
        assert WorkflowRun.objects.filter(workflow=workflow).count() == 1  # paused


def test_a_workflows_own_run_events_do_not_start_it_again(tenant_a):
    graph = graph_of(
        ("a", "set", {"values": {"a": 1}}), trigger={"type": "event", "event_type": "workflow.run_succeeded"}
    )
    with tenant_context(tenant_a):
        watcher = make_workflow(tenant_a, graph, name="Watcher")
        other = make_workflow(tenant_a, graph_of(("b", "set", {"values": {"b": 1}})), name="Other")
        drain(services.run_manual(tenant=tenant_a, workflow=other))
        from apps.events.models import Event

        for event in Event.objects.filter(type="workflow.run_succeeded", dispatched_at__isnull=True):
            event_dispatch(event_id=event.pk)
        [run] = WorkflowRun.objects.filter(workflow=watcher)
        drain(run)
        for event in Event.objects.filter(type="workflow.run_succeeded", dispatched_at__isnull=True):
            event_dispatch(event_id=event.pk)
        assert WorkflowRun.objects.filter(workflow=watcher).count() == 1


def test_schedules_fire_in_the_tenants_time_zone_once_a_minute(tenant_a):
    graph = graph_of(("a", "set", {"values": {"a": 1}}), trigger={"type": "schedule", "cron": "30 9 * * 1-5"})
    tokyo = ZoneInfo("Asia/Tokyo")
    with tenant_context(tenant_a):
        workflow = make_workflow(tenant_a, graph)
        monday_0930_tokyo = datetime(2026, 11, 30, 9, 30, 20, tzinfo=tokyo)
        assert services.schedules_fire(now=monday_0930_tokyo.astimezone(ZoneInfo("UTC"))) == 0  # 00:30 in UTC
        assert services.schedules_fire(now=monday_0930_tokyo) == 1
        assert services.schedules_fire(now=monday_0930_tokyo) == 0  # the same minute again
        assert services.schedules_fire(now=datetime(2026, 12, 5, 9, 30, tzinfo=tokyo)) == 0  # a Saturday
        [run] = WorkflowRun.objects.filter(workflow=workflow)
        assert run.trigger == "schedule" and run.trigger_data == {"scheduled_for": "2026-11-30T09:30:00+09:00"}


def test_the_tenants_zone_decides_the_minute(tenant_a):
    assert cron_matches("30 9 * * *", datetime(2026, 11, 30, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo")))
    assert not cron_matches(
        "30 9 * * *", datetime(2026, 11, 30, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(ZoneInfo("UTC"))
    )
    assert (
        graph_problems(graph_of(("a", "set", {"values": {}}), trigger={"type": "schedule", "cron": "61 * * *"}))[0][0]
        == "trigger.cron"
    )


def test_beat_fans_the_schedules_out_to_every_active_tenant(tenant_a, tenant_b, monkeypatch):
    sent = []
    from apps.workflow import tasks

    monkeypatch.setattr(tasks.fire_schedules, "apply_async", lambda **kw: sent.append(kw["headers"]["_schema_name"]))
    assert fire_schedules_all_tenants() == len(sent)
    assert {tenant_a.schema_name, tenant_b.schema_name} <= set(sent)


def _hook_graph():
    return graph_of(("got", "set", {"values": {"order": "{{ trigger.order }}"}}), trigger={"type": "webhook"})


def test_the_webhook_takes_signed_calls_and_stores_the_payload(tenant_a, settings):
    with tenant_context(tenant_a):
        workflow = make_workflow(tenant_a, _hook_graph())
    client = client_for(tenant_a)
    url = f"/workflows/hooks/{workflow.hook_token}/"
    body = json.dumps({"order": 42}).encode()
    signature = services.hook_signature(workflow.hook_secret, body)

    response = client.post(url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)
    assert response.status_code == 202, response.content
    with tenant_context(tenant_a):
        run = WorkflowRun.objects.get(pk=response.json()["run_id"])
        assert run.trigger == "webhook" and run.trigger_data == {"order": 42}
        assert drain(run).variables == {"order": "42"}

    unsigned = client.post(url, body, content_type="application/json")
    assert unsigned.status_code == 401 and unsigned["Content-Type"] == "application/problem+json"
    forged = client.post(url, b'{"order": 1}', content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)
    assert forged.status_code == 401
    assert client.post("/workflows/hooks/not-a-token/", body, content_type="application/json").status_code == 404
    bad = b"{not json"
    assert (
        client.post(
            url,
            bad,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=services.hook_signature(workflow.hook_secret, bad),
        ).status_code
        == 400
    )
    assert client.get(url).status_code == 405

    settings.HUB_WORKFLOW_WEBHOOK_PER_MINUTE = 2
    answers = [
        client.post(url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature).status_code
        for _ in range(3)
    ]
    assert answers[-1] == 429


def test_another_tenants_host_does_not_know_the_webhook(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        workflow = make_workflow(tenant_a, _hook_graph())
    body = b"{}"
    response = client_for(tenant_b).post(
        f"/workflows/hooks/{workflow.hook_token}/",
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=services.hook_signature(workflow.hook_secret, body),
    )
    assert response.status_code == 404
