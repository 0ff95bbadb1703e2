"""Every root field of the printed schema (tests/api/schema.graphql), tried for its scope, its role
permission and tenant isolation. A field added to the schema without a case here fails
`test_every_field_has_a_case`, so no field goes untried."""

import json
import uuid

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tenants.utils import schema_context
from graphql import build_schema
from strawberry.schema.name_converter import NameConverter

from apps.analytics.models import Dashboard, DashboardTile, Insight
from apps.api.models import ApiKey
from apps.compliance.models import DataRequest
from apps.content import services as content
from apps.content.models import Document, Folder
from apps.core.api import scopes
from apps.core.graphql import needs_of
from apps.core.registry import registry
from apps.flags import services as flags
from apps.flags.models import Flag
from apps.identity.models import Invitation, Membership
from apps.identity.roles import RANK, Role, has_permission
from apps.identity.services import invitation_create
from apps.integrations.models import Connection
from apps.marketplace.models import PluginInstall
from apps.marketplace.services import plugins_sync
from apps.notifications.models import WebhookDelivery, WebhookEndpoint
from apps.tenancy.models import Tenant
from apps.workflow import services as workflow_services
from apps.workflow.models import Approval, Workflow, WorkflowRun
from tests.api.conftest import make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.workflow.conftest import drain, graph_of, make_workflow

from .conftest import Gql, errors_of, key_gql
from .test_schema import SNAPSHOT

pytestmark = pytest.mark.django_db

PRINTED = build_schema(SNAPSHOT.read_text())
FIELDS = sorted(
    [("Query", name) for name in PRINTED.query_type.fields]
    + [("Mutation", name) for name in (PRINTED.mutation_type.fields if PRINTED.mutation_type else {})]
)


def strawberry_fields() -> dict:
    names = NameConverter()
    found = {}
    for item in registry["graphql_types"].values():
        for cls in (item.query, item.mutation):
            if cls is not None:
                for field in cls.__strawberry_definition__.fields:
                    found[names.from_field(field)] = field
    return found


# field -> (operation, what B's answer must be for A's objects: "empty" list, "null" field, or an error code)
CASES = {
    "members": ("{ members(first: 100) { edges { node { id email } } } }", "no-a"),
    "member": ('{ member(id: "{member}") { id email } }', "null"),
    "invitations": ("{ invitations(first: 100) { edges { node { id email } } } }", "no-a"),
    "eventTypes": ("{ eventTypes { name } }", "no-a"),
    "eventType": ('{ eventType(name: "member.joined") { name } }', "no-a"),
    "folders": ("{ folders(first: 100) { edges { node { id name } } } }", "no-a"),
    "folder": ('{ folder(id: "{folder}") { id name } }', "null"),
    "documents": ('{ documents(first: 100, q: "alpha") { edges { node { id name } } } }', "no-a"),
    "document": ('{ document(id: "{document}") { id name } }', "null"),
    "inviteMember": ('mutation { inviteMember(email: "iso@example.com", role: "viewer") { id } }', "no-a"),
    "withdrawInvitation": ('mutation { withdrawInvitation(id: "{invitation}") { ok } }', "NOT_FOUND"),
    "changeMemberRole": ('mutation { changeMemberRole(id: "{member}", role: "viewer") { id } }', "NOT_FOUND"),
    "createFolder": ('mutation { createFolder(name: "iso", parent: "{folder}") { id } }', "BAD_USER_INPUT"),
    "trashDocument": ('mutation { trashDocument(id: "{document}") { ok } }', "NOT_FOUND"),
    "apiKeys": ("{ apiKeys(first: 100) { edges { node { id name } } } }", "no-a"),
    "apiKey": ('{ apiKey(id: "{key}") { id name } }', "null"),
    "revokeApiKey": ('mutation { revokeApiKey(id: "{key}") { id } }', "NOT_FOUND"),
    "flags": ("{ flags(first: 100) { edges { node { id key } } } }", "no-a"),
    "flag": ('{ flag(id: "{flag}") { id key } }', "null"),
    "setFlagActive": ('mutation { setFlagActive(id: "{flag}", active: false) { id } }', "NOT_FOUND"),
    "webhookEndpoints": ("{ webhookEndpoints(first: 100) { edges { node { id url description } } } }", "no-a"),
    "webhookEndpoint": ('{ webhookEndpoint(id: "{webhook}") { id url } }', "null"),
    "insights": ("{ insights(first: 100) { edges { node { id name } } } }", "no-a"),
    "insight": ('{ insight(id: "{insight}") { id name } }', "null"),
    "dashboards": ("{ dashboards(first: 100) { edges { node { id name insights { name } } } } }", "no-a"),
    "dashboard": ('{ dashboard(id: "{dashboard}") { id name } }', "null"),
    "workflows": (
        "{ workflows(first: 100) { edges { node { id name runs(first: 5) { edges { node { id } } } } } } }",
        "no-a",
    ),
    "workflow": ('{ workflow(id: "{workflow}") { id name } }', "null"),
    "runs": ('{ runs(first: 100, workflow: "{workflow}") { edges { node { id trigger } } } }', "no-a"),
    "run": ('{ run(id: "{run}") { id status } }', "null"),
    "approvals": ("{ approvals(first: 100) { edges { node { id title workflow } } } }", "no-a"),
    "approval": ('{ approval(id: "{approval}") { id title } }', "null"),
    "startRun": ('mutation { startRun(workflow: "{workflow}", inputs: {}) { id } }', "NOT_FOUND"),
    "cancelRun": ('mutation { cancelRun(id: "{run}") { id status } }', "NOT_FOUND"),
    "decideApproval": ('mutation { decideApproval(id: "{approval}", decision: "approve") { id } }', "NOT_FOUND"),
    "connections": ("{ connections(first: 100) { edges { node { id name hasSecrets } } } }", "no-a"),
    "connection": ('{ connection(id: "{connection}") { id name } }', "null"),
    "testConnection": ('mutation { testConnection(id: "{connection}") { ok reason } }', "NOT_FOUND"),
    "dataRequests": ("{ dataRequests(first: 100) { edges { node { id subjectName details } } } }", "no-a"),
    "dataRequest": ('{ dataRequest(id: "{datarequest}") { id subjectName } }', "null"),
    "openDataRequest": (
        'mutation { openDataRequest(kind: "access", email: "owner@alpha.example.com", verifiedHow: "x") { id } }',
        "BAD_USER_INPUT",
    ),
    "plugins": ("{ plugins(first: 100) { edges { node { label state reason } } } }", "no-a"),
    "plugin": ('{ plugin(label: "{plugin}") { label reason } }', "null"),
    "enablePlugin": ('mutation { enablePlugin(label: "{plugin}") { label } }', "NOT_FOUND"),
    "disablePlugin": ('mutation { disablePlugin(label: "{plugin}") { label } }', "NOT_FOUND"),
    # Billing's rows are public rows naming their tenant: B's fields read B's (test_billing.py
    # checks A's figures never show); planChange moves only the caller's own organisation.
    "billingPlan": ("{ billingPlan { key name usage { quantity used limit } } }", "no-a"),
    "billingUsage": ("{ billingUsage(first: 100) { edges { node { id day quantity amount } } } }", "no-a"),
    "plans": ("{ plans { key name limits { quantity limit } price { monthly } } }", "no-a"),
    "planChange": ('mutation { planChange(plan: "free") { key } }', "BAD_USER_INPUT"),
    "organisation": ("{ organisation { slug name plan url } }", "no-a"),
    "renameOrganisation": ('mutation { renameOrganisation(name: "") { name } }', "BAD_USER_INPUT"),
    "webhookDeliveries": (
        '{ webhookDeliveries(first: 100, endpoint: "{webhook}") { edges { node { id eventType webhookId } } } }',
        "no-a",
    ),
}


def test_every_field_has_a_case_and_declares_a_scope():
    fields = strawberry_fields()
    assert {name for _, name in FIELDS} == set(CASES)
    for _, name in FIELDS:
        assert needs_of(fields[name]) is not None, f"{name} declares no scope and permission (apps.core.graphql.needs)"


def _unknown_to(tenant_b, model, make):
    with schema_context(tenant_b.schema_name):
        taken = set(model.objects.values_list("pk", flat=True))
    row = make()
    while row.pk in taken:
        row = make()
    return row


@pytest.fixture
def a_objects(tenant_a, tenant_b, owner_a):
    """Tenant A's objects, with ids no object of B has; their names say "only-in-alpha"."""
    owner = Membership.objects.select_related("user", "tenant").get(tenant=tenant_a, user=owner_a)
    with schema_context(tenant_b.schema_name):
        b_members = set(Membership.objects.filter(tenant=tenant_b).values_list("pk", flat=True))
    assert owner.pk not in b_members  # memberships share the public table: their ids differ

    def invite():
        email = f"only-in-alpha-{uuid.uuid4().hex[:6]}@example.com"
        return invitation_create(actor=owner, email=email, role="viewer")[0]

    invitation = _unknown_to(tenant_b, Invitation, invite)
    with schema_context(tenant_a.schema_name):
        folder = _unknown_to(
            tenant_b,
            Folder,
            lambda: content.folder_create(tenant=tenant_a, actor=owner_a, name=f"only-in-alpha {uuid.uuid4().hex[:6]}"),
        )
        document = _unknown_to(
            tenant_b,
            Document,
            lambda: content.document_upload(
                tenant=tenant_a, actor=owner_a, fileobj=ContentFile(b"a"), name=f"only-in-alpha {uuid.uuid4().hex[:6]}"
            ),
        )
        flag = _unknown_to(
            tenant_b,
            Flag,
            lambda: flags.flag_create(tenant=tenant_a, actor=owner_a, key=f"only-in-alpha-{uuid.uuid4().hex[:6]}"),
        )
        webhook = _unknown_to(
            tenant_b,
            WebhookEndpoint,
            lambda: WebhookEndpoint.objects.create(
                url="https://alpha.localhost/hook", description="only-in-alpha", secret="whsec_" + "A" * 44
            ),
        )
        WebhookDelivery.objects.create(
            endpoint=webhook, message_id="msg_only-in-alpha", event_type="only-in-alpha", body="{}"
        )
        insight = _unknown_to(tenant_b, Insight, lambda: Insight.objects.create(name="only-in-alpha", query=QUERY))
        dashboard = _unknown_to(tenant_b, Dashboard, lambda: Dashboard.objects.create(name="only-in-alpha"))
        DashboardTile.objects.create(dashboard=dashboard, insight=insight)
        workflow = _unknown_to(
            tenant_b,
            Workflow,
            lambda: make_workflow(
                tenant_a,
                graph_of(("ask", "approval", {"title": "only-in-alpha"})),
                name=f"only-in-alpha {uuid.uuid4().hex[:6]}",
            ),
        )
        run = drain(workflow_services.run_manual(tenant=tenant_a, workflow=workflow))
        approval = Approval.objects.get(step__run=run)
        connection = _unknown_to(
            tenant_b,
            Connection,
            lambda: Connection.objects.create(
                name=f"only-in-alpha {uuid.uuid4().hex[:6]}", connector="http", auth_type="none"
            ),
        )
        data_request = _unknown_to(
            tenant_b,
            DataRequest,
            lambda: DataRequest.objects.create(kind="access", subject_name="only-in-alpha", due_at=timezone.now()),
        )
        plugins_sync()
        PluginInstall.objects.filter(label="hello").update(reason="only-in-alpha")
    key = _unknown_to(tenant_b, ApiKey, lambda: make_key(tenant_a, name="only-in-alpha")[0])
    return {
        "member": owner.pk, "invitation": invitation.pk, "folder": folder.pk, "document": document.pk,
        "key": key.pk, "flag": flag.pk, "webhook": webhook.pk, "insight": insight.pk, "dashboard": dashboard.pk,
        "workflow": workflow.pk, "run": run.pk, "approval": approval.pk, "connection": connection.pk,
        "datarequest": data_request.pk, "plugin": "only-in-alpha-plugin",
    }  # fmt: skip


# Scopes and roles are checked before a field resolves: any id will do.
ANY_IDS = dict.fromkeys(
    (
        "member", "invitation", "folder", "document", "key", "flag", "webhook", "insight", "dashboard", "workflow",
        "run", "approval", "connection", "datarequest", "plugin",
    ),
    1,
)  # fmt: skip
QUERY = {"kind": "trends", "date_from": "2026-03-05", "date_to": "2026-03-06", "series": [{"event": "view"}]}


def _fill(query: str, objects: dict) -> str:
    for key, value in objects.items():
        query = query.replace("{" + key + "}", str(value))
    return query


def _a_intact(tenant_a, objects):
    assert Invitation.objects.get(pk=objects["invitation"]).revoked_at is None
    assert Membership.objects.get(pk=objects["member"]).role == Role.OWNER
    with schema_context(tenant_a.schema_name):
        assert Document.objects.get(pk=objects["document"]).trashed_at is None
        assert not Folder.objects.filter(name="iso").exists()
        assert ApiKey.objects.get(pk=objects["key"]).revoked_at is None
        assert Flag.objects.get(pk=objects["flag"]).active
        assert WorkflowRun.objects.get(pk=objects["run"]).status == "running"
        assert WorkflowRun.objects.filter(workflow_id=objects["workflow"]).count() == 1
        assert Approval.objects.get(pk=objects["approval"]).status == "pending"
        assert Connection.objects.get(pk=objects["connection"]).checked_at is None
    assert not Invitation.objects.filter(tenant=tenant_a, email="iso@example.com").exists()
    assert Tenant.objects.get(pk=tenant_a.pk).plan == "free"
    assert Tenant.objects.get(pk=tenant_a.pk).name == tenant_a.name


@pytest.mark.parametrize("kind, name", FIELDS)
def test_tenant_b_cannot_see_or_change_a_objects(tenant_a, tenant_b, gql_b, a_objects, kind, name):
    # B's key is made before A's objects (fixtures are set up in this order), so A's key has an id
    # B's keys do not (API keys are rows of each tenant's schema: ids repeat across tenants).
    query, expected = CASES[name]
    body = gql_b(_fill(query, a_objects))
    text = json.dumps(body).replace("owner@alpha.example.com", "") if "owner@alpha" in query else json.dumps(body)
    # (an address B's caller sent itself may come back in an error's words: "No member … has the address …")
    assert "only-in-alpha" not in text and "owner@alpha" not in text, body
    if expected == "null":
        assert body["data"][name] is None and "errors" not in body, body
    elif expected == "no-a":
        assert "errors" not in body, body
    else:
        assert errors_of(body) == [expected], body
    _a_intact(tenant_a, a_objects)


@pytest.mark.parametrize("kind, name", FIELDS)
def test_a_key_without_the_fields_scope_is_refused(tenant_a, kind, name):
    needed = needs_of(strawberry_fields()[name])
    others = [s for s in scopes.all_scopes() if not s.startswith(f"{needed.scope}:")]
    lacking = [others]
    if needed.write:
        lacking.append([*others, f"{needed.scope}:read"])  # read is not enough to write
    for granted in lacking:
        body = key_gql(tenant_a, scope_list=granted)(_fill(CASES[name][0], ANY_IDS))
        assert errors_of(body) == ["FORBIDDEN"], (granted, body)
        assert f"{needed.scope}:{'write' if needed.write else 'read'}" in body["errors"][0]["message"]
        assert body["data"] is None or body["data"][name] is None
    body = key_gql(tenant_a, scope_list=[f"{needed.scope}:{'write' if needed.write else 'read'}"])(
        _fill(CASES[name][0], ANY_IDS)
    )
    assert "FORBIDDEN" not in errors_of(body), body


@pytest.mark.parametrize("kind, name", FIELDS)
def test_a_role_without_the_fields_permission_is_refused(tenant_a, kind, name):
    needed = needs_of(strawberry_fields()[name])
    lacking = [role for role in sorted(RANK, key=RANK.get) if not has_permission(role, needed.permission)]
    if not lacking:
        assert has_permission(Role.VIEWER, needed.permission)  # every member may: nothing to refuse
        return
    member = MembershipFactory(tenant=tenant_a, role=lacking[-1])
    body = Gql(client_for(tenant_a, member.user))(_fill(CASES[name][0], ANY_IDS))
    assert errors_of(body) == ["FORBIDDEN"], body
    assert "does not allow" in body["errors"][0]["message"]
