"""The organisation and the webhook delivery log over GraphQL do what their REST twins do
(GET/PATCH /api/v1/tenant/, GET /api/v1/notifications/deliveries/); bad input is refused naming
the argument (scopes, roles and isolation of every field: test_fields.py)."""

import pytest
from django_tenants.utils import schema_context

from apps.notifications.models import WebhookDelivery, WebhookEndpoint
from apps.tenancy.models import Tenant
from tests.api.conftest import api_client, make_key

from .conftest import errors_of

pytestmark = pytest.mark.django_db


def _fields(body) -> list[str]:
    return [e["field"] for error in body["errors"] for e in error["extensions"].get("errors", [])]


def test_the_organisation_reads_and_renames_as_over_rest(tenant_a, gql_a):
    body = gql_a("{ organisation { slug name plan status url } }")
    assert body["data"]["organisation"]["slug"] == tenant_a.slug and body["data"]["organisation"]["plan"] == "free"
    assert body["data"]["organisation"]["url"].startswith("http")
    renamed = gql_a('mutation { renameOrganisation(name: "  Alpha Renamed  ") { name } }')
    assert renamed["data"]["renameOrganisation"] == {"name": "Alpha Renamed"}, renamed
    assert Tenant.objects.get(pk=tenant_a.pk).name == "Alpha Renamed"
    _, raw = make_key(tenant_a, scope_list=["tenancy:read"])
    assert api_client(tenant_a, raw).get("/api/v1/tenant/").json()["name"] == "Alpha Renamed"
    refused = gql_a('mutation { renameOrganisation(name: "") { name } }')
    assert errors_of(refused) == ["BAD_USER_INPUT"] and _fields(refused) == ["name"]


def test_the_delivery_log_filters_as_over_rest(tenant_a, gql_a):
    with schema_context(tenant_a.schema_name):
        endpoint = WebhookEndpoint.objects.create(url="https://alpha.localhost/hook", secret="whsec_" + "A" * 44)
        other = WebhookEndpoint.objects.create(url="https://alpha.localhost/other", secret="whsec_" + "B" * 44)
        failed = WebhookDelivery.objects.create(
            endpoint=endpoint, message_id="msg_1", event_type="member.joined", body="{}", status="failed"
        )
        WebhookDelivery.objects.create(endpoint=endpoint, message_id="msg_2", event_type="member.left", body="{}")
        WebhookDelivery.objects.create(endpoint=other, message_id="msg_3", event_type="member.joined", body="{}")
    query = "query ($e: ID, $s: String, $t: String) { webhookDeliveries(first: 10, endpoint: $e, status: $s, eventType: $t) { edges { node { id webhookId status endpointId } } } }"  # noqa: E501
    body = gql_a(query, {"e": str(endpoint.pk), "s": "failed"})
    assert [e["node"] for e in body["data"]["webhookDeliveries"]["edges"]] == [
        {"id": str(failed.pk), "webhookId": "msg_1", "status": "failed", "endpointId": str(endpoint.pk)}
    ]
    by_type = gql_a(query, {"t": "member.joined"})["data"]["webhookDeliveries"]["edges"]
    assert {e["node"]["webhookId"] for e in by_type} == {"msg_1", "msg_3"}
    refused = gql_a(query, {"s": "lost"})
    assert errors_of(refused) == ["BAD_USER_INPUT"] and _fields(refused) == ["status"]
