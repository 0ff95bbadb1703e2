"""GraphQL fixtures: a client that posts queries to a tenant's /graphql/ with an API key or a session."""

import json

import pytest

from apps.api.metering import meter
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for


class Gql:
    """Posts queries to /graphql/ through a Django test client; `.last` is the last response."""

    def __init__(self, client):
        self.client = client
        self.last = None

    def post(self, body: dict, **headers):
        self.last = self.client.post("/graphql/", json.dumps(body), content_type="application/json", **headers)
        return self.last

    def __call__(self, query: str, variables: dict | None = None, **headers) -> dict:
        response = self.post({"query": query, "variables": variables or {}}, **headers)
        assert response["Content-Type"] == "application/json", response.content
        return response.json()

    def get(self, **params):
        self.last = self.client.get("/graphql/", params)
        return self.last


def errors_of(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.fixture(autouse=True)
def _fresh_meter():
    meter.clear()
    yield
    meter.clear()


def key_gql(tenant, scope_list=None, user=None) -> Gql:
    return Gql(api_client(tenant, make_key(tenant, user=user, scope_list=scope_list)[1]))


@pytest.fixture
def gql_a(tenant_a):
    return key_gql(tenant_a)


@pytest.fixture
def gql_b(tenant_b):
    return key_gql(tenant_b)


@pytest.fixture
def session_gql_a(tenant_a, owner_a):
    return Gql(client_for(tenant_a, owner_a))
