"""Isolation: every operation of the API schema, tried with another tenant's key and with
another tenant's object ids. Nothing of tenant A is readable, writable or guessable from B.

The operations come from the OpenAPI schema, so an endpoint added later is tried too. For a path
with an id, tenant A's object is one made here, or else one that A's key creates through the
collection's POST with the required fields the schema names; an endpoint without such a POST
must say here how to find tenant A's object for it."""

import json
import re

import pytest
from auditlog.models import LogEntry
from django.apps import apps as django_apps
from django_tenants.utils import schema_context
from drf_spectacular.generators import SchemaGenerator

from apps.api.models import ApiKey
from apps.identity.models import Invitation, Membership
from apps.identity.services import invitation_create
from tests.factories import MembershipFactory

from .conftest import api_client, make_key

pytestmark = pytest.mark.django_db

BODIES = {
    "/api/v1/invitations/": {"email": "isolation@example.com", "role": "viewer"},
    "/api/v1/api-keys/": {"name": "iso", "scopes": ["audit:read"]},
    "/api/v1/tenant/": {"name": "Hijacked"},
    "/api/v1/members/{id}/": {"role": "viewer"},
}


SCHEMA = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def operations():
    return sorted(
        (path, method.upper())
        for path, item in SCHEMA["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


OPERATIONS = operations()


def _call(client, method, path):
    path = path.replace("{number}", "1")  # a version's number (the first exists)
    body = BODIES.get(path.split("?")[0].replace("/revoke/", "/"), BODIES.get(path, {}))
    path = re.sub(r"\{[a-z_]+\}", "1", path)  # a second parameter (a version's number): any will do
    return client.generic(
        method, path, json.dumps(body) if method in ("POST", "PATCH", "PUT") else "", content_type="application/json"
    )


def test_the_schema_lists_the_foundation_endpoints():
    paths = {p for p, _ in OPERATIONS}
    assert {
        "/api/v1/tenant/",
        "/api/v1/members/",
        "/api/v1/members/{id}/",
        "/api/v1/invitations/",
        "/api/v1/invitations/{id}/",
        "/api/v1/audit-log/",
        "/api/v1/audit-log/{id}/",
        "/api/v1/api-keys/",
        "/api/v1/api-keys/{id}/",
        "/api/v1/api-keys/{id}/revoke/",
        "/api/v1/usage/",
    } <= paths


@pytest.mark.parametrize("path, method", OPERATIONS)
def test_every_operation_refuses_another_tenants_key(tenant_a, tenant_b, key_a, path, method):
    response = _call(api_client(tenant_b, key_a[1]), method, path.replace("{id}", "1"))
    assert response.status_code == 401, (path, method, response.content)
    assert response["Content-Type"] == "application/problem+json"


@pytest.fixture
def a_objects(tenant_a, tenant_b, owner_a):
    """One object of tenant A per resource, with an id that no object of tenant B has."""
    owner_membership = Membership.objects.select_related("user", "tenant").get(tenant=tenant_a, user=owner_a)
    invitation, _ = invitation_create(actor=owner_membership, email="only-in-a@example.com", role="member")
    with schema_context(tenant_b.schema_name):
        b_keys = set(ApiKey.objects.values_list("pk", flat=True))
        b_entries = set(LogEntry.objects.values_list("pk", flat=True))
    key = make_key(tenant_a, name="alpha's own key")[0]
    while key.pk in b_keys:
        key = make_key(tenant_a, name="alpha's own key")[0]
    with schema_context(tenant_a.schema_name):
        MembershipFactory(tenant=tenant_a, role="viewer")  # an audit entry in A's own log
        entry = LogEntry.objects.exclude(pk__in=b_entries).order_by("-pk").first()
    assert entry is not None
    objects = {
        **_workflow_objects(tenant_a, tenant_b),  # first: "/api/v1/workflows/" is a prefix of its runs'
        "/api/v1/members/": owner_membership.pk,
        "/api/v1/invitations/": invitation.pk,
        "/api/v1/api-keys/": key.pk,
        "/api/v1/audit-log/": entry.pk,
    }
    objects.update(_event_spine_objects(tenant_a, tenant_b))
    objects.update(_plugin_objects(tenant_a, tenant_b))
    objects.update(_analytics_objects(tenant_a, tenant_b))
    objects.update(_content_objects(tenant_a, tenant_b, owner_a))
    objects.update(_integration_objects(tenant_a, tenant_b))
    objects.update(_experiment_objects(tenant_a, tenant_b))
    objects.update(_compliance_objects(tenant_a, tenant_b, owner_membership))
    return objects


def _compliance_objects(tenant_a, tenant_b, owner_membership):
    """A data request of tenant A with an id unknown to B."""
    from apps.compliance.data_requests import data_request_open
    from apps.compliance.models import DataRequest

    with schema_context(tenant_b.schema_name):
        taken = set(DataRequest.objects.values_list("pk", flat=True))
    with schema_context(tenant_a.schema_name):
        made = data_request_open(tenant=tenant_a, actor=owner_membership, kind="access")
        while made.pk in taken:  # another kind each time: one open request per kind and person
            made.delete()
            made = data_request_open(tenant=tenant_a, actor=owner_membership, kind="access")
    return {"/api/v1/compliance/requests/": made.pk}


def _workflow_objects(tenant_a, tenant_b):
    """A run with a pending approval, and its workflow, of tenant A: ids unknown to B."""
    from django_tenants.utils import tenant_context

    from apps.workflow import engine, services
    from apps.workflow.models import Approval, Workflow, WorkflowRun

    with schema_context(tenant_b.schema_name):
        taken = {model: set(model.objects.values_list("pk", flat=True)) for model in (Workflow, WorkflowRun, Approval)}
    graph = {"trigger": {"type": "manual"}, "nodes": [{"id": "ask", "type": "approval", "parameters": {"title": "x"}}]}
    with tenant_context(tenant_a):
        while True:
            workflow = services.workflow_create(tenant=tenant_a, name="only in alpha", graph=graph, publish_now=True)
            run = services.run_manual(tenant=tenant_a, workflow=workflow)
            engine.step_run(step_id=run.steps.get().pk)
            approval = Approval.objects.get(step__run=run)
            if (
                workflow.pk not in taken[Workflow]
                and run.pk not in taken[WorkflowRun]
                and approval.pk not in taken[Approval]
            ):
                break
    return {
        "/api/v1/workflows/runs/": run.pk,
        "/api/v1/workflows/approvals/": approval.pk,
        "/api/v1/workflows/": workflow.pk,
    }


def _integration_objects(tenant_a, tenant_b):
    """A connection (with a secret) and an imported API of tenant A, ids unknown to B."""
    from apps.integrations import services as integrations
    from apps.integrations.models import ApiSpec, Connection

    document = {"openapi": "3.0.0", "info": {"title": "Alpha only"}, "paths": {"/a": {"get": {"responses": {}}}}}
    with schema_context(tenant_b.schema_name):
        b_ids = set(Connection.objects.values_list("pk", flat=True)), set(ApiSpec.objects.values_list("pk", flat=True))
    with schema_context(tenant_a.schema_name):
        while True:
            connection = integrations.connection_create(
                tenant=tenant_a,
                name=f"alpha's own connection {Connection.objects.count()}",
                connector="http",
                auth_type="bearer",
                base_url="https://alpha.example/",
                secrets={"token": "alpha-secret"},
            )
            if connection.pk not in b_ids[0]:
                break
        while True:
            spec = integrations.spec_import(
                tenant=tenant_a, document=json.dumps(document), key=f"alpha-{ApiSpec.objects.count()}"
            )
            if spec.pk not in b_ids[1]:
                break
    return {"/api/v1/integrations/connections/": connection.pk, "/api/v1/integrations/apis/": spec.pk}


def _experiment_objects(tenant_a, tenant_b):
    """An experiment of tenant A (on a multivariate flag of A), its id unknown to B."""
    from apps.flags import experiments, services
    from apps.flags.models import Experiment

    with schema_context(tenant_b.schema_name):
        b_ids = set(Experiment.objects.values_list("pk", flat=True))
    variants = [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]
    with schema_context(tenant_a.schema_name):
        flag = services.flag_create(
            tenant=tenant_a,
            actor=None,
            key="only-in-alpha-experiment",
            filters={"multivariate": {"variants": variants}},
        )
        while True:
            row = experiments.experiment_create(
                tenant=tenant_a,
                actor=None,
                flag=flag,
                name="only in alpha",
                primary_metric={"kind": "funnel", "event": "buy"},
            )
            if row.pk not in b_ids:
                break
            row.status = Experiment.STOPPED  # one experiment not stopped per flag: make room for another
            row.save(update_fields=["status"])
    return {"/api/v1/experiments/": row.pk}


def _content_objects(tenant_a, tenant_b, owner_a):
    """A folder, a document (with a version 1), a trashed document, a trashed folder and a comment of tenant A, ids
    unknown to B; and a resumable upload (its ids are UUIDs)."""
    import uuid
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from apps.content import services
    from apps.content.models import Document, Folder, Upload

    with schema_context(tenant_b.schema_name):
        b_ids = set(Folder.objects.values_list("pk", flat=True)) | set(Document.objects.values_list("pk", flat=True))
    made = {}
    for kind in ("folders", "documents", "trash", "trash/folders"):
        while True:
            name = f"only in alpha {uuid.uuid4().hex[:8]}"
            if kind in ("folders", "trash/folders"):
                row = services.folder_create(tenant=tenant_a, actor=owner_a, name=name)
            else:
                row = services.document_upload(
                    tenant=tenant_a, actor=owner_a, fileobj=ContentFile(b"alpha"), name=f"{name}.txt"
                )
            if row.pk not in b_ids:
                break
        if kind == "trash":
            services.document_trash(tenant=tenant_a, actor=owner_a, document=row)
        if kind == "trash/folders":
            services.folder_trash(tenant=tenant_a, actor=owner_a, folder=row)
        made[f"/api/v1/content/{kind}/"] = row.pk
    with schema_context(tenant_a.schema_name):
        upload = Upload.objects.create(
            id=uuid.uuid4(), created_by=owner_a, length=10, filename="a.txt",
            expires_at=timezone.now() + timedelta(hours=1),
        )  # fmt: skip
    made["/api/v1/content/uploads/"] = str(upload.pk)
    from apps.content.comments import comment_add
    from apps.content.models import Comment

    with schema_context(tenant_b.schema_name):
        b_comments = set(Comment.objects.values_list("pk", flat=True))
    while True:  # a comment on A's folder whose id B has not
        comment = comment_add(
            tenant=tenant_a, actor=owner_a, body="only in alpha", folder=Folder(pk=made["/api/v1/content/folders/"])
        )
        if comment.pk not in b_comments:
            break
    made["/api/v1/content/comments/"] = comment.pk
    return made


def _analytics_objects(tenant_a, tenant_b):
    """A saved insight and a static cohort of tenant A, ids unknown to B."""
    from apps.analytics.models import Cohort, Insight

    query = {"kind": "trends", "date_from": "2026-03-05", "date_to": "2026-03-06", "series": [{"event": "view"}]}
    made = {}
    for model, path, fields in (
        (Insight, "/api/v1/analytics/insights/", {"name": "only in alpha", "query": query}),
        (Cohort, "/api/v1/analytics/cohorts/", {"name": "only in alpha", "kind": Cohort.STATIC}),
    ):
        with schema_context(tenant_b.schema_name):
            b_ids = set(model.objects.values_list("pk", flat=True))
        with schema_context(tenant_a.schema_name):
            row = model.objects.create(**fields)
            while row.pk in b_ids:
                row = model.objects.create(**fields)
        made[path] = row
    insight = made["/api/v1/analytics/insights/"]
    return {**{path: row.pk for path, row in made.items()}, **_report_objects(tenant_a, tenant_b, insight)}


def _report_objects(tenant_a, tenant_b, insight):
    """A report, an export and a scheduled report of tenant A (its owner's), ids unknown to B."""
    from django.utils import timezone

    from apps.analytics.models import ReportJob, ScheduledReport

    def unknown_to_b(model, **fields):
        with schema_context(tenant_b.schema_name):
            taken = set(model.objects.values_list("pk", flat=True))
        with schema_context(tenant_a.schema_name):
            row = model.objects.create(**fields)
            while row.pk in taken:
                row = model.objects.create(**fields)
        return row.pk

    owner = tenant_a.memberships.get(role="owner").user
    return {
        "/api/v1/analytics/reports/": unknown_to_b(
            ReportJob, kind="report", format="csv", title="only in alpha", insight_ids=[insight.pk], requested_by=owner
        ),
        "/api/v1/analytics/exports/": unknown_to_b(
            ReportJob, kind="export", format="csv", title="only in alpha", requested_by=owner
        ),
        "/api/v1/analytics/scheduled-reports/": unknown_to_b(
            ScheduledReport,
            name="only in alpha",
            insight_ids=[insight.pk],
            recipient_ids=[owner.pk],
            next_run_at=timezone.now(),
            created_by=owner,
        ),
    }


def _plugin_objects(tenant_a, tenant_b):
    """A greeting of tenant A (the hello plugin, when it is enabled), an id unknown to B."""
    if not django_apps.is_installed("plugins.hello"):
        return {}
    from plugins.hello.models import Greeting

    with schema_context(tenant_a.schema_name):
        greeting = Greeting.objects.create(user=tenant_a.memberships.first().user, message="only in alpha")
    with schema_context(tenant_b.schema_name):
        assert not Greeting.objects.filter(pk=greeting.pk).exists()
    objects = {"/api/v1/plugins/hello/greetings/": greeting.pk}
    if django_apps.is_installed("plugins.pulse"):
        # Team pulse enabled in both (so B's calls reach its views, not the gate), a check-in only in A.
        from apps.marketplace.services import plugin_enable
        from plugins.pulse.services import checkin_create

        for tenant in (tenant_a, tenant_b):
            with schema_context(tenant.schema_name):
                plugin_enable(tenant=tenant, actor=None, label="pulse")
        with schema_context(tenant_a.schema_name):
            checkin = checkin_create(user=tenant_a.memberships.first().user, score=3, note="only in alpha")
        objects["/api/v1/plugins/pulse/checkins/"] = checkin.pk
    # Billing's usage (public rows naming tenant A): B's list never shows them.
    from django.utils import timezone

    from apps.billing.models import UsageRecord

    usage = UsageRecord.objects.create(tenant=tenant_a, day=timezone.now().date(), quantity="seats", amount=7)
    objects["/api/v1/billing/usage/"] = usage.pk
    return objects


_SAMPLES = {"string": "isolation", "integer": 1, "number": 1, "boolean": False}


def _made_through_the_api(tenant_a, path):
    """The id of an object tenant A's key creates by POSTing the schema's required fields to the
    collection of `path`, or None when the collection has no such POST."""
    collection = path.split("{id}")[0]
    body_schema = (
        (SCHEMA["paths"].get(collection, {}).get("post", {}).get("requestBody", {}).get("content", {}))
        .get("application/json", {})
        .get("schema", {})
    )
    if "$ref" in body_schema:
        body_schema = SCHEMA["components"]["schemas"][body_schema["$ref"].rsplit("/", 1)[1]]
    fields = body_schema.get("properties", {})
    if not fields or any(fields[f].get("type") not in _SAMPLES for f in body_schema.get("required", [])):
        return None
    body = {f: _SAMPLES[fields[f]["type"]] for f in body_schema.get("required", [])}
    response = api_client(tenant_a, make_key(tenant_a)[1]).post(collection, body, content_type="application/json")
    assert response.status_code == 201, (collection, response.content)
    return response.json()["id"]


def _event_spine_objects(tenant_a, tenant_b):
    """A webhook endpoint and a delivery of tenant A (apps.notifications), ids unknown to B."""
    from django.utils import timezone

    from apps.notifications.models import WebhookDelivery, WebhookEndpoint

    with schema_context(tenant_b.schema_name):
        b_endpoints = set(WebhookEndpoint.objects.values_list("pk", flat=True))
    with schema_context(tenant_a.schema_name):
        endpoint = WebhookEndpoint.objects.create(url="https://alpha.localhost/hook", secret="whsec_" + "A" * 44)
        while endpoint.pk in b_endpoints:
            endpoint = WebhookEndpoint.objects.create(url="https://alpha.localhost/hook", secret="whsec_" + "A" * 44)
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, message_id="msg_a", event_type="t", body="{}", next_attempt_at=timezone.now()
        )
    return {"/api/v1/notifications/webhooks/": endpoint.pk, "/api/v1/notifications/deliveries/": delivery.pk}


def _snapshot(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        keys = list(ApiKey.objects.order_by("pk").values_list("pk", "revoked_at"))
        entries = LogEntry.objects.count()
    return (
        list(Membership.objects.filter(tenant=tenant_a).order_by("pk").values_list("pk", "role")),
        list(Invitation.objects.filter(tenant=tenant_a).order_by("pk").values_list("pk", "revoked_at")),
        keys,
        entries,
        tenant_a.__class__.objects.get(pk=tenant_a.pk).name,
    )


@pytest.mark.parametrize("path, method", [op for op in OPERATIONS if "{id}" in op[0]])
def test_another_tenants_object_ids_are_not_found(tenant_a, tenant_b, api_b, a_objects, path, method):
    base = next((b for b in a_objects if path.startswith(b)), None)
    object_id = a_objects[base] if base is not None else _made_through_the_api(tenant_a, path)
    assert object_id is not None, f"{path}: add tenant A's object for it to a_objects"
    before = _snapshot(tenant_a, tenant_b)
    response = _call(api_b, method, path.replace("{id}", str(object_id)))
    assert response.status_code == 404, (path, method, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert _snapshot(tenant_a, tenant_b) == before


@pytest.mark.parametrize("path, method", [op for op in OPERATIONS if "{id}" not in op[0]])
def test_collections_show_only_the_own_tenant(tenant_a, tenant_b, owner_a, api_b, a_objects, path, method):
    before = _snapshot(tenant_a, tenant_b)
    response = _call(api_b, method, path)
    assert response.status_code < 500, (path, method, response.content)
    text = response.content.decode()
    for marker in (
        owner_a.email,
        "only-in-a@example.com",
        "alpha's own key",
        "Alpha Ltd",
        "alpha.localhost",
        "alpha's own connection",
        "alpha-secret",
    ):
        assert marker not in text, (path, method, marker)
    assert _snapshot(tenant_a, tenant_b) == before
