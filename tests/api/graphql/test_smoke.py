import pytest

from .conftest import errors_of

pytestmark = pytest.mark.django_db


def test_members_query_answers_the_tenants_members(gql_a, owner_a):
    body = gql_a("{ members(first: 5) { edges { node { id email role } } pageInfo { hasNextPage } } }")
    assert "errors" not in body, body
    assert [e["node"]["email"] for e in body["data"]["members"]["edges"]] == [owner_a.email]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1
    assert gql_a.last["RateLimit-Limit"] == "120"


def test_key_without_scope_is_refused_per_field(tenant_a):
    from .conftest import key_gql

    gql = key_gql(tenant_a, scope_list=["content:read"])
    body = gql("{ members(first: 5) { edges { node { id } } } folders { edges { node { id } } } }")
    assert errors_of(body) == ["FORBIDDEN"], body
    assert body["data"] is None or body["data"].get("folders") is not None
