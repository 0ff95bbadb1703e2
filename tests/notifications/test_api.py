"""The webhook and event-type endpoints of the integrator API (/api/v1/)."""

import json

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.notifications import signing
from apps.notifications.models import WebhookDelivery, WebhookEndpoint
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.events.fixtures import add_member


def post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def api(tenant_a):
    return api_client(tenant_a, make_key(tenant_a)[1])


def test_event_types_are_listed_with_their_schemas(tenant_a, api):
    response = api.get("/api/v1/events/event-types/")
    assert response.status_code == 200
    names = {t["name"] for t in response.json()}
    assert {"member.joined", "invitation.sent", "organisation.settings_changed", "webhook.endpoint_disabled"} <= names
    one = api.get("/api/v1/events/event-types/member.role_changed/").json()
    assert one["payload_schema"]["required"] == ["user_id", "email", "old_role", "new_role"]
    missing = api.get("/api/v1/events/event-types/no.such/")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"


def test_create_read_update_and_delete_an_endpoint(
    tenant_a, api, receiver, django_capture_on_commit_callbacks, eager_tasks
):
    created = post(
        api,
        "/api/v1/notifications/webhooks/",
        {"url": receiver.url(), "event_types": ["member.joined"], "description": "CRM"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["event_types"] == ["member.joined"]
    path = f"/api/v1/notifications/webhooks/{body['id']}/"
    assert created["Location"].endswith(path)
    assert "secret" not in api.get(path).json()
    assert api.get(path + "secret/").json()["secret"] == body["secret"]

    rotated = post(api, path + "rotate-secret/").json()
    assert rotated["secret"] != body["secret"] and rotated["previous_secret_expires_at"]

    changed = api.patch(path, json.dumps({"is_active": False, "event_types": []}), content_type="application/json")
    assert changed.status_code == 200 and changed.json()["is_active"] is False and changed.json()["event_types"] == []
    api.patch(path, json.dumps({"is_active": True}), content_type="application/json")

    with django_capture_on_commit_callbacks(execute=True):
        test = post(api, path + "test/")
    assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"
    [request] = receiver.wait_for(1)
    assert signing.verify(
        rotated["secret"],
        request.headers["webhook-id"],
        request.headers["webhook-timestamp"],
        request.body,
        request.headers["webhook-signature"],
    )

    log = api.get(f"/api/v1/notifications/deliveries/?endpoint={body['id']}").json()
    assert [d["webhook_id"] for d in log["results"]] == [request.headers["webhook-id"]]
    delivery = api.get(f"/api/v1/notifications/deliveries/{log['results'][0]['id']}/").json()
    assert delivery["status"] == "succeeded" and delivery["attempts"][0]["response_status"] == 200
    with django_capture_on_commit_callbacks(execute=True):
        again = post(api, f"/api/v1/notifications/deliveries/{delivery['id']}/resend/")
    assert again.status_code == 202 and again.json()["webhook_id"] == delivery["webhook_id"]
    assert receiver.wait_for(2)[1].headers["webhook-id"] == delivery["webhook_id"]

    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_replay_through_the_api(tenant_a, api, receiver, django_capture_on_commit_callbacks, eager_tasks):
    from apps.core.events import publish

    with schema_context(tenant_a.schema_name):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url(), secret=signing.secret_generate(), event_types=[])
        publish("organisation.settings_changed", {"changes": {"name": {"old": "a", "new": "b"}}}, tenant=tenant_a)
    since = (timezone.now() - timezone.timedelta(hours=1)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            api,
            f"/api/v1/notifications/webhooks/{endpoint.pk}/replay/",
            {"event_type": "organisation.settings_changed", "since": since},
        )
    assert response.status_code == 202 and response.json() == {"queued": 1}
    assert json.loads(receiver.wait_for(1)[0].body)["type"] == "organisation.settings_changed"


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"url": "ftp://example.com/"}, "url", 422),  # well formed, refused by the delivery rules
        ({"url": 12}, "url", 400),
        ({"url": "https://example.com/", "event_types": ["nope"]}, "event_types", 400),
        ({"event_types": []}, "url", 400),
    ],
)
def test_bad_endpoint_bodies_are_problems_naming_the_field(tenant_a, api, body, field, status):
    response = post(api, "/api/v1/notifications/webhooks/", body)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert field in {e["field"].split(".")[0] for e in response.json()["errors"]}


def test_bad_replay_is_a_problem(tenant_a, api):
    with schema_context(tenant_a.schema_name):
        endpoint = WebhookEndpoint.objects.create(url="https://example.com/", secret=signing.secret_generate())
    response = post(api, f"/api/v1/notifications/webhooks/{endpoint.pk}/replay/", {"event_type": "x", "since": "no"})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"event_type", "since"}


def test_members_and_narrow_keys_cannot_manage_webhooks(tenant_a):
    member = add_member(tenant_a, "api-member@example.com")
    as_member = client_for(tenant_a, member.user)  # the dashboards' own session authentication
    assert as_member.get("/api/v1/notifications/webhooks/").status_code == 403
    assert as_member.get("/api/v1/events/event-types/").status_code == 200
    read_only = api_client(tenant_a, make_key(tenant_a, scope_list=["webhooks:read"])[1])
    assert read_only.get("/api/v1/notifications/webhooks/").status_code == 200
    assert post(read_only, "/api/v1/notifications/webhooks/", {"url": "https://example.com/"}).status_code == 403
    no_scope = api_client(tenant_a, make_key(tenant_a, scope_list=["audit:read"])[1])
    assert no_scope.get("/api/v1/events/event-types/").status_code == 403


def test_another_tenants_endpoints_and_deliveries_are_not_found(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        endpoint = WebhookEndpoint.objects.create(
            url="https://only-alpha.example.com/", secret=signing.secret_generate()
        )
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, message_id="msg_a", event_type="t", body="{}", next_attempt_at=timezone.now()
        )
    api_b = api_client(tenant_b, make_key(tenant_b)[1])
    base = f"/api/v1/notifications/webhooks/{endpoint.pk}/"
    deliveries = "/api/v1/notifications/deliveries/"
    for path in (base, base + "secret/", f"{deliveries}{delivery.pk}/", f"{deliveries}not-a-uuid/"):
        assert api_b.get(path).status_code == 404, path
    for path in (base + "test/", base + "rotate-secret/", f"{deliveries}{delivery.pk}/resend/"):
        assert post(api_b, path).status_code == 404, path
    assert api_b.get(f"{deliveries}?endpoint={endpoint.pk}").json()["results"] == []
    assert api_b.delete(base).status_code == 404
    assert b"only-alpha" not in api_b.get("/api/v1/notifications/webhooks/").content
    # and tenant A's key does not work on B's host at all
    assert api_client(tenant_b, make_key(tenant_a)[1]).get("/api/v1/notifications/webhooks/").status_code == 401
