"""Project keys (the API, stored hashed, admins only, their events), CORS for their origins, tenant
isolation, and the platform's own domain events recorded as analytics events."""

import pytest
from django_tenants.utils import schema_context

from apps.analytics.keys import hash_key
from apps.analytics.models import ProjectKey
from apps.core.registry import registry
from apps.events.models import Event as DomainEvent
from apps.events.services import events_dispatch_new
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import host_client, post_json, project_key, stored, write

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/analytics/project-keys/"


def test_admins_create_list_and_revoke_keys_through_the_api(tenant_a):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["analytics:write"])[1])
    created = post_json(client, KEYS, {"name": "Website", "allowed_origins": ["https://www.alpha.test/"]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["key"].startswith(body["prefix"] + "_") and body["allowed_origins"] == ["https://www.alpha.test"]
    with schema_context(tenant_a.schema_name):
        row = ProjectKey.objects.get(pk=body["id"])
        assert row.key_hash == hash_key(body["key"]) and body["key"] not in str(row.__dict__)
    listed = client.get(KEYS).json()["results"]
    assert [(k["name"], k["status"]) for k in listed] == [("Website", "active")] and "key" not in listed[0]
    revoked = client.post(f"{KEYS}{body['id']}/revoke/")
    assert revoked.json()["status"] == "revoked"
    answer = post_json(
        host_client(tenant_a), "/batch/", {"api_key": body["key"], "batch": [{"event": "x", "distinct_id": "d"}]}
    )
    assert answer.status_code == 401


def test_a_bad_origin_is_a_problem_naming_the_field(tenant_a):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["analytics:write"])[1])
    response = post_json(client, KEYS, {"name": "Site", "allowed_origins": ["www.alpha.test/path"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "allowed_origins"


def test_members_below_admin_cannot_manage_keys(tenant_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    client = client_for(tenant_a, member.user)  # the dashboards' session
    assert client.get(KEYS).status_code == 403
    assert post_json(client, KEYS, {"name": "Nope"}).status_code == 403


def test_creating_and_revoking_a_key_publish_events_with_human_labels(tenant_a):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["analytics:write"])[1])
    key_id = post_json(client, KEYS, {"name": "Shop"}).json()["id"]
    client.post(f"{KEYS}{key_id}/revoke/")
    with schema_context(tenant_a.schema_name):
        types = list(
            DomainEvent.objects.filter(type__startswith="analytics.")
            .order_by("occurred_at")
            .values_list("type", flat=True)
        )
    assert types == ["analytics.project_key_created", "analytics.project_key_revoked"]
    assert registry["event_types"]["analytics.project_key_revoked"].label == "Project key revoked"
    assert registry["permissions"]["analytics.keys.manage"].role == "admin"


def test_domain_events_are_recorded_as_analytics_events_by_their_actor(tenant_a, owner_a):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["analytics:write"])[1])
    post_json(client, KEYS, {"name": "Shop"})
    with schema_context(tenant_a.schema_name):
        events_dispatch_new()
        events_dispatch_new()  # a second dispatch records nothing twice
        outbox = DomainEvent.objects.get(type="analytics.project_key_created")
    [row] = stored(tenant_a, event="analytics.project_key_created")
    assert (row.uuid, row.distinct_id, row.properties["name"]) == (outbox.id, str(owner_a.pk), "Shop")
    assert row.properties["$source"] == "server"


def test_cors_preflight_and_response_follow_the_keys_origins(tenant_a):
    raw = project_key(tenant_a, origins=["https://www.alpha.test"])[1]
    client = host_client(tenant_a)
    allowed = client.options("/e/", HTTP_ORIGIN="https://www.alpha.test", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == "https://www.alpha.test"
    other = client.options("/e/", HTTP_ORIGIN="https://evil.test", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in other
    body = {"api_key": raw, "event": "x", "distinct_id": "d"}
    sent = post_json(client, "/capture/", body, HTTP_ORIGIN="https://www.alpha.test")
    assert sent.status_code == 200 and sent["Access-Control-Allow-Origin"] == "https://www.alpha.test"
    refused = post_json(client, "/capture/", body, HTTP_ORIGIN="https://evil.test")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    write(tenant_a)
    assert len(stored(tenant_a)) == 1


def test_another_tenants_key_is_401_and_nothing_is_written_anywhere(tenant_a, tenant_b):
    raw_a = project_key(tenant_a)[1]
    body = {"api_key": raw_a, "batch": [{"event": "intruder", "distinct_id": "d"}]}
    for path in ("/batch/", "/api/v1/analytics/capture"):
        response = post_json(host_client(tenant_b), path, body)
        assert response.status_code == 401, response.content
        assert response["Content-Type"] == "application/problem+json"
    assert write(tenant_a) == 0 and write(tenant_b) == 0
    assert stored(tenant_a) == [] and stored(tenant_b) == []


def test_each_tenant_sees_only_its_own_events(tenant_a, tenant_b):
    raw_a, raw_b = project_key(tenant_a)[1], project_key(tenant_b)[1]
    post_json(host_client(tenant_a), "/batch/", {"api_key": raw_a, "batch": [{"event": "in_a", "distinct_id": "d"}]})
    post_json(host_client(tenant_b), "/batch/", {"api_key": raw_b, "batch": [{"event": "in_b", "distinct_id": "d"}]})
    write(tenant_a)
    write(tenant_b)
    assert [r.event for r in stored(tenant_a)] == ["in_a"]
    assert [r.event for r in stored(tenant_b)] == ["in_b"]


def test_another_tenants_keys_are_not_listed_nor_revocable(tenant_a, tenant_b):
    key_a = project_key(tenant_a, name="alpha site")[0]
    client_b = api_client(tenant_b, make_key(tenant_b, scope_list=["analytics:write"])[1])
    assert "alpha site" not in client_b.get(KEYS).content.decode()
    with schema_context(tenant_b.schema_name):
        unused = not ProjectKey.objects.filter(pk=key_a.pk).exists()
    if unused:
        assert client_b.post(f"{KEYS}{key_a.pk}/revoke/").status_code == 404
    with schema_context(tenant_a.schema_name):
        assert ProjectKey.objects.get(pk=key_a.pk).revoked_at is None


def test_a_failure_to_record_never_blocks_the_dispatch(tenant_a, owner_a, monkeypatch):
    from django.db import DataError

    from apps.analytics import storage
    from apps.core.events import publish

    def broken(rows, **kwargs):
        raise DataError("the analytics table is unwell")

    monkeypatch.setattr(storage, "rows_write", broken)
    with schema_context(tenant_a.schema_name):
        publish(
            "analytics.project_key_created", {"key_id": 1, "name": "n", "prefix": "p"}, tenant=tenant_a, actor=owner_a
        )
        events_dispatch_new()
        assert not DomainEvent.objects.filter(dispatched_at__isnull=True).exists()
