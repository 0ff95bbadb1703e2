"""The bundled OpenAPI documents of well-known services (apps/integrations/specs/manifest.json,
written by scripts/bundle_openapi.py): each one imports with the hub's own importer, and the
operation its manifest names is called as a workflow node (validated inputs, then the request
with a connection's credential) against a local fake of the service that checks the request and
answers with an example of the document's own answer, which comes back valid. An integration is
counted only when this passes for it (docs/integrations.md states the count; a test checks it)."""

import base64
import json
import re
import socket
from urllib.parse import quote, urlsplit

import pytest
from django_tenants.utils import schema_context
from jsonschema import Draft202012Validator

from apps.core.registry import registry
from apps.integrations import openapi, services
from apps.integrations.catalogue import connectors
from apps.integrations.errors import ConnectorError, InputError

from .conftest import make_connection, run_node
from .examples import example
from .fakes import fake_service

pytestmark = pytest.mark.django_db

BUNDLED = openapi.manifest()
HAND_WRITTEN = ("slack", "teams", "discord", "github", "gitlab", "jira", "http", "smtp", "imap", "hub")


def credential(key: str, service: dict) -> dict:
    """The connection fields of the service's first kind of credential (a pasted token for OAuth
    2.0), and the request's header or query parameter that must carry it."""
    kind = next(k for k in service["auth"] if k != "oauth2") if service["auth"] != ["oauth2"] else "bearer"
    if kind == "bearer":
        return {
            "auth_type": "bearer",
            "secrets": {"token": "t0ken"},
            "expect": ("header", "authorization", "Bearer t0ken"),
        }
    if kind == "basic":
        pair = base64.b64encode(b"ada:s3cret").decode()
        return {
            "auth_type": "basic",
            "settings": {"username": "ada"},
            "secrets": {"password": "s3cret"},
            "expect": ("header", "authorization", f"Basic {pair}"),
        }
    if kind == "api_key":
        document = json.loads((openapi.SPECS / f"{key}.json").read_text())
        schemes = (document.get("components") or {}).get("securitySchemes") or {}
        default = {"name": "X-API-Key", "in": "header"}  # the document names none: the hub's default
        scheme = next((s for s in schemes.values() if s.get("type") == "apiKey"), default)
        return {
            "auth_type": "api_key",
            "settings": {"name": scheme["name"], "location": scheme["in"]},
            "secrets": {"api_key": "k3y"},
            "expect": (scheme["in"], scheme["name"].lower() if scheme["in"] == "header" else scheme["name"], "k3y"),
        }
    return {"auth_type": "none", "secrets": {}, "expect": None}


@pytest.fixture(scope="module")
def service_fake():
    """One fake service for the module (stopping one takes half a second), emptied for each test."""
    with fake_service() as fake:
        yield fake


@pytest.fixture
def fake(service_fake):
    service_fake.routes.clear()
    service_fake.requests.clear()
    return service_fake


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("key", sorted(BUNDLED))
def test_each_bundled_document_imports_and_its_operation_is_called_on_a_fake_of_the_service(tenant_a, fake, key):
    service = BUNDLED[key]
    document = (openapi.SPECS / f"{key}.json").read_text()
    with schema_context(tenant_a.schema_name):
        imported = services.spec_import(tenant=tenant_a, document=document, key=key)
    operation = next(op for op in imported.operations if op["id"] == service["representative"])
    node = registry["workflow_nodes"][f"{key}.{operation['id']}"]
    assert node.connector == key and node.description == f"{operation['method']} {operation['path']}"
    [action] = [a for a in connectors()[key].actions if a.key == node.key]
    assert action.input_schema == operation["input_schema"]  # the ready connector is the imported document

    inputs = {
        name: example(schema, operation["input_schema"])
        for name, schema in operation["input_schema"]["properties"].items()
        if name in operation["input_schema"]["required"]
    }
    answer = example(operation["output_schema"], operation["output_schema"]) if operation["output_schema"] else {}
    prefix = urlsplit(openapi.server_url(json.loads(document)) or "/").path.rstrip("/")
    path = operation["path"]
    for name, schema in operation["input_schema"]["properties"].items():
        if schema.get("x-in") == "path":
            path = path.replace("{" + name + "}", quote(_text(inputs[name]), safe=""))
    fake.route(operation["method"], prefix + path)(lambda request: (200, answer))
    auth = credential(key, service)
    expect = auth.pop("expect")
    connection = make_connection(tenant_a, name=service["label"], connector=key, base_url=fake.url + prefix, **auth)

    output = run_node(tenant_a, node.key, {"credential": connection.pk, **inputs})

    assert output == answer
    Draft202012Validator(operation["output_schema"]).validate(output)
    [request] = fake.requests
    assert (request.method, request.path) == (operation["method"], prefix + path)
    for name, schema in operation["input_schema"]["properties"].items():
        if name not in inputs:
            continue
        value = inputs[name]
        if schema["x-in"] == "query" and not isinstance(value, dict):
            assert request.query[name] == _text(value[0] if isinstance(value, list) else value)
        elif schema["x-in"] == "header":
            assert request.headers[name.lower()] == _text(value)
        elif schema["x-in"] == "body":
            sent = request.json() if operation.get("body_type") != "form" else request.form()
            assert (
                sent == value
                if operation.get("body_type") != "form"
                else set(sent) <= {re.split(r"\[", k)[0] for k in sent} | set(sent)
            )
    if expect:
        where, name, value = expect
        assert (request.headers if where == "header" else request.query)[name] == value

    # a missing required input is named, and nothing is sent
    for missing in operation["input_schema"]["required"][:1]:
        with pytest.raises(InputError) as refused:
            run_node(
                tenant_a, node.key, {"credential": connection.pk, **{k: v for k, v in inputs.items() if k != missing}}
            )
        assert missing in refused.value.errors and missing in refused.value.message
        assert len(fake.requests) == 1

    # the service down: a clear, retryable error naming the connection
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with schema_context(tenant_a.schema_name):
        services.connection_update(tenant=tenant_a, connection=connection, base_url=f"http://127.0.0.1:{port}{prefix}")
    with pytest.raises(ConnectorError) as down:
        run_node(tenant_a, node.key, {"credential": connection.pk, **inputs})
    assert down.value.retryable and f"“{service['label']}” is down or unreachable" not in down.value.message
    assert "is down or unreachable" in down.value.message and service["label"] in down.value.message


def test_the_count_in_the_docs_is_the_number_of_integrations_tested_here():
    """docs/integrations.md says how many integrations there are: the hand-written ready
    connectors (each tested against a fake of its service in test_connectors.py and beside it)
    plus the bundled documents tested above, each service once."""
    from django.conf import settings

    ready = {c.key for c in connectors().values()} - set(BUNDLED)
    assert ready == set(HAND_WRITTEN)
    total = len(ready) + len(BUNDLED)
    docs = (settings.BASE_DIR / "docs" / "integrations.md").read_text()
    stated = re.search(r"\*\*Counted honestly: (\d+) integrations\*\*", docs)
    assert stated and int(stated.group(1)) == total, f"docs/integrations.md should say {total}"
    for service in BUNDLED.values():
        assert f"| {service['label']} |" in docs, f"{service['label']} is not listed in docs/integrations.md"


def test_a_form_body_is_sent_the_way_stripe_reads_it(tenant_a, fake):
    """Stripe and Twilio take forms, not JSON: nested keys in brackets, a list repeats its key."""
    fake.route("POST", "/v1/customers")(lambda request: (200, {"id": "cus_1", "object": "customer"}))
    connection = make_connection(tenant_a, name="Stripe", connector="stripe", base_url=fake.url + "/")
    body = {
        "email": "ada@example.com",
        "metadata": {"plan": "pro"},
        "preferred_locales": ["en", "fr"],
        "tax_exempt": "none",
    }
    output = run_node(tenant_a, "stripe.PostCustomers", {"credential": connection.pk, "body": body})
    assert output == {"id": "cus_1", "object": "customer"}
    [request] = fake.requests
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.body.decode() == (
        "email=ada%40example.com&metadata%5Bplan%5D=pro&preferred_locales=en&preferred_locales=fr&tax_exempt=none"
    )
    assert request.headers["authorization"] == "Bearer t0ken"
