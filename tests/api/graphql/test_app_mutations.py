"""The workflow, integrations, compliance and marketplace fields do what their REST twins do, and
bad input is refused with BAD_USER_INPUT naming the field (scopes, roles and isolation of every
field: test_fields.py)."""

import pytest
from django_tenants.utils import tenant_context

from apps.workflow.models import Approval, WorkflowRun
from tests.workflow.conftest import drain, graph_of, make_workflow

from .conftest import errors_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(tenant_a):
    """A run of tenant A waiting for an approval."""
    workflow = make_workflow(tenant_a, graph_of(("ask", "approval", {"title": "Go ahead?"})), name="Ask")
    with tenant_context(tenant_a):
        from apps.workflow import services

        run = drain(services.run_manual(tenant=tenant_a, workflow=workflow))
        return workflow, run, Approval.objects.get(step__run=run)


def _field_errors(body) -> list[str]:
    return [e["field"] for error in body["errors"] for e in error["extensions"].get("errors", [])]


def test_an_owner_starts_cancels_and_decides_as_over_rest(tenant_a, gql_a, waiting):
    workflow, run, approval = waiting
    body = gql_a(
        "query ($id: ID!) { workflow(id: $id) { name publishedVersion runs(first: 5) { edges { node { id } } } } }",
        {"id": workflow.pk},
    )
    assert body["data"]["workflow"]["name"] == "Ask"
    assert [e["node"]["id"] for e in body["data"]["workflow"]["runs"]["edges"]] == [str(run.pk)]
    body = gql_a('{ approvals(first: 5, status: "pending") { edges { node { id title workflow runId } } } }')
    assert body["data"]["approvals"]["edges"][0]["node"] == {
        "id": str(approval.pk), "title": "Go ahead?", "workflow": "Ask", "runId": str(run.pk),
    }  # fmt: skip
    body = gql_a(
        'mutation ($id: ID!) { decideApproval(id: $id, decision: "reject", comment: "No") { status comment } }',
        {"id": approval.pk},
    )
    assert body["data"]["decideApproval"] == {"status": "rejected", "comment": "No"}, body
    body = gql_a(
        "mutation ($id: ID!) { startRun(workflow: $id, inputs: {}) { id status trigger } }", {"id": workflow.pk}
    )
    started = body["data"]["startRun"]
    assert started["trigger"] == "manual", body
    body = gql_a("mutation ($id: ID!) { cancelRun(id: $id) { status } }", {"id": started["id"]})
    assert body["data"]["cancelRun"]["status"] == "cancelled", body
    with tenant_context(tenant_a):
        assert WorkflowRun.objects.get(pk=started["id"]).status == "cancelled"


@pytest.mark.parametrize(
    "query, field",
    [
        ('{ runs(first: 5, status: "sleeping") { edges { node { id } } } }', "status"),
        ('{ approvals(first: 5, status: "maybe") { edges { node { id } } } }', "status"),
        ('mutation { decideApproval(id: "{approval}", decision: "maybe") { id } }', "decision"),
        ('mutation { startRun(workflow: "{workflow}", inputs: [1, 2]) { id } }', "inputs"),
        ('mutation { openDataRequest(kind: "everything", verifiedHow: "phone") { id } }', "kind"),
    ],
)
def test_bad_input_is_refused_naming_the_field(gql_a, waiting, query, field):
    workflow, _run, approval = waiting
    body = gql_a(query.replace("{approval}", str(approval.pk)).replace("{workflow}", str(workflow.pk)))
    assert errors_of(body) == ["BAD_USER_INPUT"], body
    assert _field_errors(body) == [field], body


def test_connections_never_show_secrets_and_a_test_says_why(tenant_a, gql_a):
    from apps.integrations.models import Connection

    with tenant_context(tenant_a):
        connection = Connection.objects.create(
            name="Hooks", connector="http", auth_type="api_key", base_url="http://127.0.0.1:9/",
            secrets='{"api_key": "sk-very-secret"}',
        )  # fmt: skip
    body = gql_a("{ connections(first: 10) { edges { node { name hasSecrets status } } } }")
    assert body["data"]["connections"]["edges"] == [
        {"node": {"name": "Hooks", "hasSecrets": ["api_key"], "status": "untested"}}
    ]
    assert "sk-very-secret" not in str(body)
    body = gql_a(
        "mutation ($id: ID!) { testConnection(id: $id) { ok status reason connection { checkedAt } } }",
        {"id": connection.pk},
    )
    answer = body["data"]["testConnection"]
    assert answer["ok"] is False and answer["status"] == "failing" and answer["reason"], body
    assert answer["connection"]["checkedAt"]


def test_plugins_are_listed_with_their_state_here(gql_a):
    body = gql_a("{ plugins(first: 10) { edges { node { label name state } } } }")
    labels = [e["node"]["label"] for e in body["data"]["plugins"]["edges"]]
    assert labels == sorted(labels) and "hello" in labels, body
    body = gql_a('{ plugins(first: 10, state: "sleeping") { edges { node { label } } } }')
    assert errors_of(body) == ["BAD_USER_INPUT"] and _field_errors(body) == ["state"], body
