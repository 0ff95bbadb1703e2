"""The workflow pages: the list and a new workflow from a template, a workflow's page (draft as
JSON with its errors, the structured published graph, versions, runs, publish, pause, run now,
delete), the run log and a run's view with each step's data, the approvals inbox; roles and
another tenant's ids."""

import json

from django.test import Client
from django_tenants.utils import tenant_context

from apps.workflow import services
from apps.workflow.models import Approval, Workflow, WorkflowRun
from tests.conftest import client_for, host_of
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


def _emailed_links(tenant, user) -> dict[str, str]:
    """The approval e-mail sent to `user` (the notification service, as the dispatcher and the
    worker run it): its buttons' paths by label."""
    import re
    from urllib.parse import urlsplit

    from django.core import mail

    from apps.events.models import Event
    from apps.notifications import services as notifications
    from apps.notifications.models import Notification

    with tenant_context(tenant):
        notifications.notify_for_events(list(Event.objects.filter(type="workflow.approval_requested")))
        note = Notification.objects.filter(user=user, event_type="workflow.approval_requested").latest("pk")
        mail.outbox.clear()
        assert notifications.notification_email_send(notification_id=note.pk)
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    links = dict((label, url) for url, label in re.findall(r'<a href="([^"]+/by-email/[^"]+)"[^>]*>(\w+)</a>', html))
    for url in links.values():
        assert url in message.body  # the text part has them too
    assert all(urlsplit(url).hostname == host_of(tenant) for url in links.values())
    return {label: urlsplit(url).path for label, url in links.items()}


def test_the_approval_email_s_buttons_decide_without_a_log_in_once(tenant_a, tenant_b, owner_a, settings):
    member = MembershipFactory(tenant=tenant_a, role="member").user
    graph = graph_of(
        ("ask", "approval", {"title": "Pay the plumber", "details": "Invoice 42", "assignee": member.email}),
        ("paid", "set", {"values": {"paid": True}}),
        edges=[("ask", "approved", "paid")],
    )
    workflow = make_workflow(tenant_a, graph)
    with tenant_context(tenant_a):
        run = drain(services.run_manual(tenant=tenant_a, workflow=workflow))
        approval = Approval.objects.get(step__run=run)
    links = _emailed_links(tenant_a, member)
    assert set(links) == {"Approve", "Reject"}
    anonymous = client_for(tenant_a)
    anonymous.handler.enforce_csrf_checks = True
    page = anonymous.get(links["Approve"])  # what a mail scanner does: it decides nothing
    assert (
        page.status_code == 200 and "Pay the plumber" in page.content.decode() and "Invoice 42" in page.content.decode()
    )
    assert page["Cache-Control"] == "private, no-store"
    with tenant_context(tenant_a):
        assert Approval.objects.get(pk=approval.pk).status == "pending"
    # Another tenant's host, a changed token, an expired one: refused with words, nothing decided.
    assert client_for(tenant_b).get(links["Approve"]).status_code == 410
    forged = anonymous.get(links["Approve"][:-3] + "abc/")
    assert forged.status_code == 410 and "not valid" in forged.content.decode()
    settings.HUB_WORKFLOW_APPROVAL_LINK_DAYS = -1
    assert "expired" in anonymous.get(links["Approve"]).content.decode()
    settings.HUB_WORKFLOW_APPROVAL_LINK_DAYS = 7
    token = anonymous.cookies["csrftoken"].value
    decided = anonymous.post(
        links["Approve"],
        {"decision": "reject", "comment": "by mail", "csrfmiddlewaretoken": token},  # the link's decision wins
    )
    assert decided.status_code == 200 and "Approved: Pay the plumber" in decided.content.decode()
    with tenant_context(tenant_a):
        approval.refresh_from_db()
        assert (approval.status, approval.decided_by, approval.comment) == ("approved", member, "by mail")
        assert drain(run).variables == {"paid": True}
    again = anonymous.get(links["Reject"])
    assert again.status_code == 410 and "was approved already" in again.content.decode()


def test_an_approval_link_stops_working_for_someone_who_may_no_longer_decide(tenant_a, owner_a):
    membership = MembershipFactory(tenant=tenant_a, role="admin")
    workflow = make_workflow(tenant_a, graph_of(("ask", "approval", {"title": "Hire Bo", "role": "admin"})))
    with tenant_context(tenant_a):
        drain(services.run_manual(tenant=tenant_a, workflow=workflow))
    links = _emailed_links(tenant_a, membership.user)
    membership.role = "member"
    membership.save()
    page = client_for(tenant_a).get(links["Approve"])
    assert page.status_code == 410 and "not yours to decide any more" in page.content.decode()


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


def test_the_builders_palette_is_json_the_browser_keeps(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    answer = client.get("/workflows/palette/")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert answer["Cache-Control"] == "private, max-age=300"
    types = {item["type"]: item for item in answer.json() if "type" in item}
    assert types["set"]["required"] == ["values"] and types["approval"]["ports"] == ["approved", "rejected"]
    notify = types["workflow.notify"]
    assert notify["fields"]["channel"] == {"type": "string", "enum": ["in_app", "email", "both"]}
    assert notify["required"] == ["title"] and notify["outputs"] == ["notified", "channel"]
    assert len(answer.content) < 150_000  # each field's type, choices and words only
    stripe = next(item for item in answer.json() if item.get("connector") == "stripe")
    listing = dict(stripe["actions"])["GetCustomers"]
    assert stripe["source"] == "Stripe" and listing.startswith("Returns a list of your customers")
    again = client.get("/workflows/palette/", HTTP_IF_NONE_MATCH=answer["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert Client(HTTP_HOST=host_of(tenant_a)).get("/workflows/palette/").status_code == 302  # members only


def test_an_integration_actions_parameters_are_fetched_on_their_own(tenant_a, owner_a):
    """The palette lists the integration hub's two thousand actions by name; the builder fetches
    one's parameters when a step of it is placed or opened."""
    client = client_for(tenant_a, owner_a)
    answer = client.get("/workflows/palette/stripe.GetCustomers/")
    assert answer.status_code == 200 and answer["Cache-Control"] == "private, max-age=300"
    item = answer.json()
    assert item["label"].startswith("Stripe: Returns a list of your customers")
    assert item["description"] == "GET /v1/customers"
    assert item["fields"]["credential"]["type"] == "integer" and item["required"] == ["credential"]
    assert item["fields"]["email"]["type"] == "string" and "data" in item["outputs"]
    assert client.get("/workflows/palette/stripe.nothing_such/").status_code == 404
    assert client.get("/workflows/palette/set/").json()["required"] == ["values"]  # built-ins too
    assert Client(HTTP_HOST=host_of(tenant_a)).get("/workflows/palette/stripe.GetCustomers/").status_code == 302
