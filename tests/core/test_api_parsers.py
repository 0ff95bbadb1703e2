"""The API refuses a NUL character anywhere in a JSON body with a 422 naming where it is (PostgreSQL
cannot store one: it would otherwise be a 500 at the database)."""

import json

import pytest

from apps.core.api.parsers import nul_at
from tests.api.conftest import api_client, make_key

pytestmark = pytest.mark.django_db


def test_nul_is_found_in_values_keys_and_lists():
    assert nul_at({"a": [1, {"b": "fine"}]}) is None
    assert nul_at({"a": [1, {"b": "x\x00"}]}) == "a.1.b"
    assert nul_at({"filters": {"k\x00": True}}) == "filters.k\\u0000"
    assert nul_at("\x00") == "the body"


def test_an_endpoint_answers_422_not_500(tenant_a):
    api = api_client(tenant_a, make_key(tenant_a, scope_list=["flags:write"])[1])
    body = {"key": "nul-flag", "name": "Nul", "filters": {"groups": [{"properties": [], "x\u0000": 1}]}}
    answer = api.post("/api/v1/flags/", json.dumps(body), content_type="application/json")
    assert answer.status_code == 422 and answer["Content-Type"] == "application/problem+json"
    [error] = answer.json()["errors"]
    assert error["field"] == "filters.groups.0.x\\u0000" and "NUL character" in error["message"]
