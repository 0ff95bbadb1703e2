"""The OpenAPI schema: generated without warnings, valid OpenAPI 3, complete (every operation has
its authentication schemes and problem+json error responses), served at /api/v1/schema/; the
Swagger UI and Redoc pages use vendored assets only."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from tests.conftest import host_of


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def test_schema_generates_without_warnings_and_validates(tmp_path):
    """What CI checks: `manage.py spectacular --validate --fail-on-warn` succeeds."""
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--api-version", "v1", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3.0")


def test_schema_is_valid_openapi_3(schema):
    validate_schema(schema)


def test_every_operation_documents_auth_errors_and_parameters(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "hub_<prefix>_<secret>",
        "description": "An API key of this organisation, created on the API keys page.",
    }
    assert schemes["session"]["in"] == "cookie"
    operations = [(p, m, op) for p, item in schema["paths"].items() for m, op in item.items()]
    assert len(operations) >= 17
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert {"apiKey": []} in op["security"], where
        assert op.get("summary"), where
        for code in ("401", "403", "404", "429"):
            content = op["responses"][code]["content"]
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}, where
        assert "Retry-After" in op["responses"]["429"]["headers"], where
        success = next(c for c in op["responses"] if c.startswith("2"))
        assert {"RateLimit-Policy", "RateLimit"} <= set(op["responses"][success].get("headers", {})), where
        names = {p["name"] for p in op.get("parameters", [])}
        if method == "post":
            assert "Idempotency-Key" in names and {"409", "422"} <= set(op["responses"]), where
        if method == "get":
            assert "If-None-Match" in names and "304" in op["responses"], where
        if "{id}" in path:
            id_param = next(p for p in op["parameters"] if p["name"] == "id")
            assert id_param["schema"]["type"] in ("integer", "string"), where
        if method == "get" and "results" in str(op["responses"]["200"]):
            assert {"cursor", "page_size", "ordering"} <= names, where
    problem = schema["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)


def test_filters_are_in_the_schema(schema):
    audit = {p["name"]: p for p in schema["paths"]["/api/v1/audit-log/"]["get"]["parameters"]}
    assert {"actor", "actor_email", "action", "object_type", "object_pk", "since", "until"} <= set(audit)
    assert audit["action"]["schema"]["type"] == "string"
    assert sorted(audit["action"]["schema"]["enum"]) == ["access", "create", "delete", "update"]
    assert audit["since"]["schema"]["format"] == "date-time"


@pytest.mark.django_db
def test_schema_is_served_publicly_as_json(tenant_a, schema):
    response = Client(HTTP_HOST=host_of(tenant_a)).get("/api/v1/schema/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    served = response.json()
    assert served["openapi"].startswith("3.0")
    assert set(served["paths"]) == set(schema["paths"])


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/developers/docs/", "/developers/redoc/"])
def test_docs_pages_use_vendored_assets_only(tenant_a, url):
    response = Client(HTTP_HOST=host_of(tenant_a)).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/schema/" in html
    assert "<script>" not in html  # no inline script: the CSP allows 'self' only
    assert not re.search(r'(src|href)="(https?:)?//', html), "an external asset"
    for asset in re.findall(r'(?:src|href)="/static/([^"]+)"', html):
        assert finders.find(asset), asset
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_sidecar_ships_the_bundles():
    root = Path(finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"))
    assert root.stat().st_size > 500_000
    assert Path(finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")).stat().st_size > 500_000
    assert "drf_spectacular_sidecar" in settings.INSTALLED_APPS


def _operations(schema):
    return [(f"{m.upper()} {p}", op) for p, item in schema["paths"].items() for m, op in item.items()]


def test_each_operation_declares_exactly_the_errors_it_can_give(schema):
    """400 only where the operation takes input (a body, a query parameter, the Idempotency-Key
    of a POST); 409 and 422 on POST (Idempotency-Key in flight / reused); 412 where If-Match is
    honoured; 415 where there is a body. The tus upload endpoints (content) follow the tus protocol
    instead: their input is in headers and raw bytes (Upload-Offset, Tus-Resumable → 400, 409,
    412, 415, 460), which docs/apps/content.md describes."""
    for where, op in _operations(schema):
        if where.split(" ")[1].startswith("/api/v1/content/uploads/"):
            continue
        codes = set(op["responses"])
        params = op.get("parameters", [])
        takes_input = "requestBody" in op or where.startswith("POST") or any(p["in"] == "query" for p in params)
        assert ("400" in codes) == takes_input, where
        assert ("415" in codes) == ("requestBody" in op), where
        assert ("409" in codes) == where.startswith("POST"), where
        assert ("412" in codes) == any(p["name"] == "If-Match" for p in params), where
        if where.startswith(("POST", "PATCH", "DELETE")):
            assert "422" in codes, where
    by_name = dict(_operations(schema))
    assert "400" not in by_name["GET /api/v1/tenant/"]["responses"]
    assert "422" in by_name["GET /api/v1/usage/"]["responses"]
    assert "412" in by_name["PATCH /api/v1/members/{id}/"]["responses"]


def _params(schema, where):
    return {p["name"]: p["schema"] for p in dict(_operations(schema))[where].get("parameters", [])}


def test_parameters_are_declared_as_strictly_as_the_server_checks_them(schema):
    import re

    from apps.api.idempotency import KEY_PATTERN
    from apps.core.api.pagination import CURSOR_PATTERN

    key = _params(schema, "POST /api/v1/invitations/")["Idempotency-Key"]
    assert key == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN}
    audit = _params(schema, "GET /api/v1/audit-log/")
    assert audit["actor"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert audit["actor_email"]["maxLength"] == 254 and audit["object_type"]["maxLength"] == 200
    assert audit["cursor"] == {"type": "string", "pattern": CURSOR_PATTERN}
    assert audit["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert audit["ordering"]["enum"] == ["id", "-id", "timestamp", "-timestamp"]
    deliveries = _params(schema, "GET /api/v1/notifications/deliveries/")
    assert deliveries["endpoint"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert _params(schema, "GET /api/v1/notifications/deliveries/{id}/")["id"] == {"type": "string", "format": "uuid"}
    assert _params(schema, "GET /api/v1/members/{id}/")["id"]["type"] == "integer"
    # Text fields and filters: no NUL character; where blank is refused, not only whitespace.
    no_nul = re.compile(audit["actor_email"]["pattern"])
    assert no_nul.match("a@b.c ") and not no_nul.match("a\x00")
    name = schema["components"]["schemas"]["ApiKeyRequest"]["properties"]["name"]
    assert name["minLength"] == 1 and not re.match(name["pattern"], "   ") and re.match(name["pattern"], " x ")
    replay = schema["components"]["schemas"]["ReplayRequest"]["properties"]["event_type"]
    assert replay["allOf"] == [{"$ref": "#/components/schemas/EventTypeEnum"}]
    assert "member.joined" in schema["components"]["schemas"]["EventTypeEnum"]["enum"]


def test_rate_limit_headers_are_declared_with_their_syntax(schema):
    import re

    headers = dict(_operations(schema))["GET /api/v1/tenant/"]["responses"]["200"]["headers"]
    assert re.match(headers["RateLimit-Policy"]["schema"]["pattern"], '"default";q=600;w=60')
    assert re.match(headers["RateLimit"]["schema"]["pattern"], '"default";r=598;t=42')
    for old in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
        assert headers[old]["deprecated"] is True
