"""/graphql/ as an integrator meets it: authentication, errors with codes, depth and cost limits
charged against the rate limit, metering, persisted queries, Relay cursors and mutations that
go through the services."""

import json
from datetime import UTC, datetime

import pytest
from django.test import Client
from django_redis import get_redis_connection
from django_tenants.utils import schema_context

from apps.api.graphql.persisted import sha256
from apps.api.selectors import api_usage_list
from apps.identity.models import Invitation
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for, host_of
from tests.factories import MembershipFactory, UserFactory

from .conftest import Gql, errors_of, key_gql

pytestmark = pytest.mark.django_db

MEMBERS = "{ members(first: 5) { edges { node { email } } } }"
NESTED = """{ folders(first: 100) { edges { node { documents(first: 100) { edges { node {
  versions(first: 100) { edges { node { number } } } } } } } } } }"""


@pytest.fixture(autouse=True)
def _fresh_redis_counts():
    redis = get_redis_connection("default")
    for key in redis.scan_iter("hub:api:rl:*"):
        redis.delete(key)
    yield


# --- Authentication --------------------------------------------------------------------------------


def test_no_credentials_is_401_unauthenticated(tenant_a):
    response = Gql(Client(HTTP_HOST=host_of(tenant_a))).post({"query": MEMBERS})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert errors_of(response.json()) == ["UNAUTHENTICATED"]


def test_another_tenants_key_is_401(tenant_a, tenant_b):
    response = Gql(api_client(tenant_b, make_key(tenant_a)[1])).post({"query": MEMBERS})
    assert response.status_code == 401
    assert errors_of(response.json()) == ["UNAUTHENTICATED"]
    assert "not valid for this organisation" in response.json()["errors"][0]["message"]


def test_a_session_reads_and_its_posts_need_the_csrf_token(tenant_a, owner_a):
    body = Gql(client_for(tenant_a, owner_a))(MEMBERS)
    assert body["data"]["members"]["edges"][0]["node"]["email"] == owner_a.email
    strict = Client(HTTP_HOST=host_of(tenant_a), enforce_csrf_checks=True)
    strict.force_login(owner_a)
    response = Gql(strict).post({"query": MEMBERS})
    assert response.status_code == 403
    assert errors_of(response.json()) == ["FORBIDDEN"]
    assert "CSRF" in response.json()["errors"][0]["message"]


def test_someone_who_is_not_a_member_is_403(tenant_a):
    response = Gql(client_for(tenant_a, UserFactory())).post({"query": MEMBERS})
    assert response.status_code == 403
    assert errors_of(response.json()) == ["FORBIDDEN"]


def test_graphql_is_not_served_on_the_public_site(tenant_a, owner_a):
    response = Gql(client_for(None, owner_a)).post({"query": MEMBERS})
    assert response.status_code == 404


# --- Requests refused before they run --------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"query": "{ members(first: 5) { edges "}, 400, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ members { nope } }"}, 400, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": ""}, 400, "BAD_REQUEST"),
        ({"query": MEMBERS, "variables": "[1]"}, 400, "BAD_REQUEST"),
        ({"query": ["not", "text"]}, 400, "BAD_REQUEST"),
        ({"query": "query A { eventTypes { name } } query B { eventTypes { name } }"}, 400, "BAD_REQUEST"),
        ({"query": "subscription { eventTypes { name } }"}, 400, "GRAPHQL_VALIDATION_FAILED"),
        ([1, 2], 400, "BAD_REQUEST"),
    ],
)
def test_bad_requests_name_their_fault(gql_a, body, status, code):
    response = gql_a.post(body)
    assert response.status_code == status, response.content
    assert errors_of(response.json()) == [code]


def test_malformed_json_is_400(gql_a):
    response = gql_a.client.post("/graphql/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert errors_of(response.json()) == ["BAD_REQUEST"]


def test_a_mutation_by_get_is_405(gql_a):
    response = gql_a.get(query='mutation { inviteMember(email: "x@example.com", role: "viewer") { id } }')
    assert response.status_code == 405
    assert errors_of(response.json()) == ["METHOD_NOT_ALLOWED"]
    assert not Invitation.objects.filter(email="x@example.com").exists()


def test_a_query_by_get_works(gql_a, owner_a):
    response = gql_a.get(query=MEMBERS)
    assert response.status_code == 200
    assert response.json()["data"]["members"]["edges"][0]["node"]["email"] == owner_a.email


def test_too_deep_a_query_is_refused_before_it_runs(gql_a, settings):
    settings.HUB_GRAPHQL_MAX_DEPTH = 5
    response = gql_a.post(
        {"query": "{ folders(first: 1) { edges { node { documents(first: 1) { edges { cursor } } } } } }"}  # depth 6
    )
    assert response.status_code == 400
    body = response.json()
    assert errors_of(body) == ["QUERY_TOO_DEEP"]
    assert body["errors"][0]["extensions"]["depth"] == 6
    assert "data" not in body
    assert "RateLimit" not in response  # refused before it was charged


def test_too_costly_a_query_is_refused_with_its_price(gql_a):
    response = gql_a.post({"query": NESTED})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] == 102  # (1 + 100 + 10,000 calls) / 100, rounded up
    assert error["extensions"]["maxCost"] == 50
    assert "first/last" in error["message"]


def test_too_many_nodes_is_refused_even_when_cheap(gql_a, settings):
    settings.HUB_GRAPHQL_MAX_NODES = 150
    body = gql_a.post(
        {"query": "{ folders(first: 100) { edges { node { documents(first: 1) { edges { cursor } } } } } }"}
    )
    assert errors_of(body.json()) == ["QUERY_TOO_COMPLEX"]
    assert body.json()["errors"][0]["extensions"]["nodes"] == 200


def test_introspection_can_be_turned_off(gql_a, settings):
    assert gql_a("{ __schema { queryType { name } } }")["data"]["__schema"]["queryType"]["name"] == "Query"
    settings.HUB_GRAPHQL_INTROSPECTION = False
    response = gql_a.post({"query": "{ __schema { queryType { name } } }"})
    assert response.status_code == 400
    assert errors_of(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "introspection" in response.json()["errors"][0]["message"].lower()


# --- Rate limit and metering -----------------------------------------------------------------------


def test_the_price_is_taken_from_the_rate_limit_until_429(tenant_a, settings):
    settings.HUB_API_RATE_LIMITS = {**settings.HUB_API_RATE_LIMITS, "free": 10}
    gql = key_gql(tenant_a)
    costly = "{ folders(first: 100) { edges { node { documents(first: 100) { edges { cursor } } } } } }"  # 101 calls: 2
    remaining = []
    for _ in range(5):
        body = gql(costly)
        assert "errors" not in body, body
        assert body["extensions"]["cost"]["requestedQueryCost"] == 2
        remaining.append(body["extensions"]["cost"]["remaining"])
        assert gql.last["RateLimit-Remaining"] == str(remaining[-1])
    assert remaining == [8, 6, 4, 2, 0]
    response = gql.post({"query": costly})
    assert response.status_code == 429
    assert errors_of(response.json()) == ["RATE_LIMITED"]
    assert int(response["Retry-After"]) >= 1
    assert response["RateLimit-Remaining"] == "0"


def test_each_request_is_metered_as_one_call_of_its_key(tenant_a):
    key, raw = make_key(tenant_a)
    gql = Gql(api_client(tenant_a, raw))
    for _ in range(3):
        gql(MEMBERS)
    today = datetime.now(UTC).date()
    with schema_context(tenant_a.schema_name):
        usage = api_usage_list(since=today, key_id=key.pk)
    assert [row["calls"] for row in usage] == [3]


# --- Persisted queries -----------------------------------------------------------------------------


def _persisted(digest):
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def test_persisted_query_by_hash(gql_a, owner_a):
    digest = sha256(MEMBERS)
    unknown = gql_a.post({"extensions": _persisted(digest)})
    assert unknown.status_code == 200
    assert errors_of(unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    first = gql_a.post({"query": MEMBERS, "extensions": _persisted(digest)})
    assert first.json()["data"]["members"]["edges"][0]["node"]["email"] == owner_a.email
    again = gql_a.post({"extensions": _persisted(digest)})
    assert again.json()["data"] == first.json()["data"]
    by_get = gql_a.get(extensions=json.dumps(_persisted(digest)))
    assert by_get.status_code == 200 and by_get.json()["data"] == first.json()["data"]


def test_a_hash_that_is_not_the_querys_is_refused(gql_a):
    response = gql_a.post({"query": MEMBERS, "extensions": _persisted(sha256("{ eventTypes { name } }"))})
    assert response.status_code == 400
    assert errors_of(response.json()) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert errors_of(gql_a.post({"extensions": _persisted(sha256("{ eventTypes { name } }"))}).json()) == [
        "PERSISTED_QUERY_NOT_FOUND"
    ]


def test_a_query_that_fails_validation_is_not_kept(gql_a):
    bad = "{ members { nope } }"
    assert gql_a.post({"query": bad, "extensions": _persisted(sha256(bad))}).status_code == 400
    assert errors_of(gql_a.post({"extensions": _persisted(sha256(bad))}).json()) == ["PERSISTED_QUERY_NOT_FOUND"]


def test_persisted_queries_are_kept_per_tenant(gql_a, gql_b):
    gql_a.post({"query": MEMBERS, "extensions": _persisted(sha256(MEMBERS))})
    assert errors_of(gql_b.post({"extensions": _persisted(sha256(MEMBERS))}).json()) == ["PERSISTED_QUERY_NOT_FOUND"]


# --- Relay cursors ---------------------------------------------------------------------------------


def test_members_page_forward_by_cursor(tenant_a, gql_a):
    for _ in range(4):
        MembershipFactory(tenant=tenant_a, role="viewer")
    page = """query($after: String) { members(first: 2, after: $after) {
        edges { node { id } cursor } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        members = gql_a(page, {"after": after})["data"]["members"]
        seen += [int(edge["node"]["id"]) for edge in members["edges"]]
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)  # newest first, each once


# --- Mutations through the services ----------------------------------------------------------------


INVITE = "mutation($email: String!, $role: String!) { inviteMember(email: $email, role: $role) { id email role } }"


def test_invite_member_goes_through_the_service(tenant_a, gql_a):
    body = gql_a(INVITE, {"email": "new@example.com", "role": "viewer"})
    assert "errors" not in body, body
    invitation = Invitation.objects.get(pk=body["data"]["inviteMember"]["id"])
    assert (invitation.tenant, invitation.email, invitation.role) == (tenant_a, "new@example.com", "viewer")
    listed = gql_a("{ invitations(first: 10) { edges { node { email invitedBy } } } }")["data"]["invitations"]
    assert {"email": "new@example.com", "invitedBy": tenant_a.memberships.get(role="owner").user.email} in [
        e["node"] for e in listed["edges"]
    ]


@pytest.mark.parametrize(
    "variables, field",
    [({"email": "not-an-email", "role": "viewer"}, "email"), ({"email": "ok@example.com", "role": "emperor"}, "role")],
)
def test_invite_member_names_the_bad_field(gql_a, variables, field):
    body = gql_a(INVITE, variables)
    assert errors_of(body) == ["BAD_USER_INPUT"]
    assert field in [e["field"] for e in body["errors"][0]["extensions"]["errors"]]
    assert body["data"] is None
    assert not Invitation.objects.filter(email=variables["email"]).exists()


def test_the_last_owner_cannot_be_demoted(tenant_a, gql_a):
    owner = tenant_a.memberships.get(role="owner")
    body = gql_a('mutation($id: ID!) { changeMemberRole(id: $id, role: "viewer") { role } }', {"id": owner.pk})
    assert errors_of(body) == ["BAD_USER_INPUT"]
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_create_folder_and_trash_a_document(tenant_a, owner_a, gql_a):
    from django.core.files.base import ContentFile

    from apps.content import services
    from apps.content.models import Document, Folder

    body = gql_a('mutation { createFolder(name: "Invoices") { id name parentId } }')
    assert body["data"]["createFolder"]["name"] == "Invoices", body
    folder_id = body["data"]["createFolder"]["id"]
    again = gql_a('mutation { createFolder(name: "invoices") { id } }')
    assert errors_of(again) == ["BAD_USER_INPUT"]
    with schema_context(tenant_a.schema_name):
        assert Folder.objects.filter(name__iexact="invoices").count() == 1
        document = services.document_upload(
            tenant=tenant_a,
            actor=owner_a,
            fileobj=ContentFile(b"x"),
            name="a.txt",
            folder=Folder.objects.get(pk=folder_id),
        )
    listed = gql_a(
        "query($id: ID!) { folder(id: $id) { documents(first: 5) { edges { node { id name version size } } } } }",
        {"id": folder_id},
    )
    assert listed["data"]["folder"]["documents"]["edges"] == [
        {"node": {"id": str(document.pk), "name": "a.txt", "version": 1, "size": 1}}
    ]
    trashed = gql_a("mutation($id: ID!) { trashDocument(id: $id) { ok } }", {"id": document.pk})
    assert trashed["data"]["trashDocument"]["ok"]
    with schema_context(tenant_a.schema_name):
        assert Document.objects.get(pk=document.pk).trashed_at is not None
    assert gql_a("query($id: ID!) { document(id: $id) { id } }", {"id": document.pk})["data"]["document"] is None


def test_with_redis_down_queries_go_on_unlimited_and_persisted_ones_are_asked_for(tenant_a, owner_a, gql_a):
    import logging

    from django.conf import settings
    from django.test import override_settings

    gql_a(MEMBERS)  # the key is cached while Redis is up
    down = {name: {**config, "LOCATION": "redis://127.0.0.1:1/0"} for name, config in settings.CACHES.items()}
    logging.disable(logging.WARNING)  # each Redis failure is logged with its traceback: slow to render
    try:
        with override_settings(CACHES=down):
            body = gql_a(MEMBERS)
            assert body["data"]["members"]["edges"][0]["node"]["email"] == owner_a.email
            assert body["extensions"]["cost"] == {"requestedQueryCost": 1, "nodes": 5}
            assert "RateLimit" not in gql_a.last
            unknown = gql_a.post({"extensions": _persisted(sha256(MEMBERS))}).json()
            assert errors_of(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    finally:
        logging.disable(logging.NOTSET)


def test_a_bad_idempotency_key_is_refused_with_its_reason(gql_a):
    response = gql_a.post({"query": MEMBERS}, HTTP_IDEMPOTENCY_KEY="k" * 300)
    assert response.status_code == 400
    assert errors_of(response.json()) == ["BAD_REQUEST"]
    assert "printable ASCII" in response.json()["errors"][0]["message"]
