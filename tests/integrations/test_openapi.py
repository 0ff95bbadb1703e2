"""The OpenAPI connector: a document imported (uploaded as YAML, or fetched from a fake service
that serves its own spec) turns each operation into an action with typed inputs and outputs;
calling one validates the inputs and sends the request with the connection's credential. Bad
documents are refused naming the reason. The hub's own API (the bundled document) is called on a
live hub."""

import json

import pytest
import yaml
from django_tenants.utils import schema_context

from apps.integrations import services
from apps.integrations.errors import InputError
from apps.integrations.models import ApiSpec
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for

from .conftest import make_connection, run_node

pytestmark = pytest.mark.django_db

PETSTORE = {
    "openapi": "3.0.3",
    "info": {"title": "Pet Store", "version": "1.0.0"},
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "summary": "List pets",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
                    {"$ref": "#/components/parameters/Trace"},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "createPet",
                "summary": "Add a pet",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}},
                },
                "responses": {
                    "201": {
                        "description": "made",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    }
                },
            },
        },
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {
                "summary": "One pet",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    }
                },
            },
        },
    },
    "components": {
        "parameters": {"Trace": {"name": "X-Trace", "in": "header", "schema": {"type": "string"}}},
        "schemas": {
            "NewPet": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "minLength": 1}, "tag": {"type": "string", "nullable": True}},
            },
            "Pet": {
                "allOf": [
                    {"$ref": "#/components/schemas/NewPet"},
                    {"type": "object", "properties": {"id": {"type": "integer"}}},
                ]
            },
        },
    },
}


def serve_petstore(fake):
    pets = [{"id": 1, "name": "Rex", "tag": None}]
    fake.route("GET", "/openapi.json")(lambda r: (200, {**PETSTORE, "servers": [{"url": fake.url}]}))
    fake.route("GET", "/pets")(lambda r: (200, pets[: int(r.query.get("limit", 100))]))

    def create(request):
        pets.append({"id": len(pets) + 1, **request.json()})
        return 201, pets[-1]

    fake.route("POST", "/pets")(create)
    fake.route("GET", "/pets/1")(lambda r: (200, pets[0]))
    return pets


def test_each_operation_becomes_an_action_with_typed_inputs_and_outputs(tenant_a, owner_a, fake):
    serve_petstore(fake)
    with schema_context(tenant_a.schema_name):
        spec = services.spec_import(tenant=tenant_a, actor=owner_a, url=f"{fake.url}/openapi.json")
    assert (spec.key, spec.title, spec.version, spec.server_url) == ("pet-store", "Pet Store", "1.0.0", fake.url)
    ops = {op["id"]: op for op in spec.operations}
    assert set(ops) == {"listPets", "createPet", "get_pets_petId"}
    listing = ops["listPets"]["input_schema"]
    assert listing["properties"]["limit"] == {"type": "integer", "maximum": 100, "x-in": "query"}
    assert listing["properties"]["X-Trace"]["x-in"] == "header"
    create = ops["createPet"]
    assert create["input_schema"]["required"] == ["body"]
    assert create["input_schema"]["$defs"]["NewPet"]["properties"]["tag"]["type"] == ["string", "null"]
    assert ops["get_pets_petId"]["input_schema"]["required"] == ["petId"]
    assert ops["listPets"]["output_schema"]["items"] == {"$ref": "#/$defs/Pet"}


def test_calling_an_imported_operation_sends_the_request_with_the_connections_credential(tenant_a, fake):
    pets = serve_petstore(fake)
    with schema_context(tenant_a.schema_name):
        services.spec_import(tenant=tenant_a, url=f"{fake.url}/openapi.json", key="pets")
    conn = make_connection(tenant_a, name="Pets", auth_type="api_key", base_url=fake.url, secrets={"api_key": "pk"})
    created = run_node(
        tenant_a,
        "openapi.call",
        {
            "credential": conn.pk,
            "spec": "pets",
            "operation": "createPet",
            "input": {"body": {"name": "Tom", "tag": None}},
        },
    )
    assert created == {"id": 2, "name": "Tom", "tag": None} and pets[-1]["name"] == "Tom"
    listed = run_node(
        tenant_a,
        "openapi.call",
        {"credential": conn.pk, "spec": "pets", "operation": "listPets", "input": {"limit": 1, "X-Trace": "t-1"}},
    )
    assert listed == [{"id": 1, "name": "Rex", "tag": None}]
    [request] = fake.made("GET", "/pets")
    assert (
        request.query == {"limit": "1"} and request.headers["x-trace"] == "t-1" and request.headers["x-api-key"] == "pk"
    )
    one = run_node(
        tenant_a,
        "openapi.call",
        {"credential": conn.pk, "spec": "pets", "operation": "get_pets_petId", "input": {"petId": 1}},
    )
    assert one["name"] == "Rex"


def test_bad_inputs_are_refused_naming_the_field_before_anything_is_sent(tenant_a, fake):
    serve_petstore(fake)
    with schema_context(tenant_a.schema_name):
        services.spec_import(tenant=tenant_a, url=f"{fake.url}/openapi.json", key="pets")
    conn = make_connection(tenant_a, name="Pets", auth_type="none", base_url=fake.url, secrets={})
    sent = len(fake.requests)
    for inputs, field in [
        ({"body": {"tag": "x"}}, "body.name"),
        ({}, "body"),
        ({"body": {"name": "A"}, "colour": "red"}, "input"),
    ]:
        with pytest.raises(InputError) as error:
            run_node(
                tenant_a,
                "openapi.call",
                {"credential": conn.pk, "spec": "pets", "operation": "createPet", "input": inputs},
            )
        assert field in error.value.errors, error.value.errors
    with pytest.raises(InputError) as error:
        run_node(
            tenant_a,
            "openapi.call",
            {"credential": conn.pk, "spec": "pets", "operation": "listPets", "input": {"limit": 500}},
        )
    assert "limit" in error.value.errors
    assert len(fake.requests) == sent


@pytest.mark.parametrize(
    "document, words",
    [
        ("swagger: '2.0'\ninfo: {title: Old}\npaths: {/a: {get: {}}}", "Only OpenAPI 3"),
        ("{not json: [", "neither JSON nor YAML"),
        (json.dumps({"openapi": "3.1.0", "info": {"title": "Empty"}, "paths": {}}), "no paths"),
        (
            json.dumps(
                {
                    "openapi": "3.0.0",
                    "info": {"title": "R"},
                    "paths": {"/a": {"get": {"parameters": [{"$ref": "#/nope"}]}}},
                }
            ),
            "points at nothing",
        ),
    ],
)
def test_bad_documents_are_refused_with_the_reason(tenant_a, document, words):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["integrations:write"])[1])
    response = client.post(
        "/api/v1/integrations/apis/", json.dumps({"document": document}), content_type="application/json"
    )
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == "document" and words in error["message"]


def test_a_yaml_upload_on_the_page_imports_and_lists_the_operations(tenant_a, owner_a, tenant_b, owner_b):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(tenant_a, owner_a)
    upload = SimpleUploadedFile("pets.yaml", yaml.safe_dump(PETSTORE).encode(), content_type="application/yaml")
    done = client.post("/integrations/apis/", {"document": upload, "key": "pets"})
    assert done.status_code == 302, done.content.decode()[:2000]
    with schema_context(tenant_a.schema_name):
        spec = ApiSpec.objects.get(key="pets")
    page = client.get(f"/integrations/apis/{spec.pk}/").content.decode()
    assert "createPet" in page and "POST /pets" in page
    export = client.get(f"/integrations/apis/{spec.pk}/", {"_export": "csv", "sort": "id"})
    rows = b"".join(export.streaming_content).decode().splitlines()
    assert rows[1:] == [
        "createPet,POST /pets,Add a pet",
        "get_pets_petId,GET /pets/{petId},One pet",
        "listPets,GET /pets,List pets",
    ]
    assert "pets" in client.get("/integrations/apis/").content.decode()
    refused = client.post("/integrations/apis/", {"url": "http://169.254.169.254/latest/meta-data"})
    assert refused.status_code == 400 and "cloud metadata" in refused.content.decode()
    assert client_for(tenant_b, owner_b).get(f"/integrations/apis/{spec.pk}/").status_code == 404


def test_the_bundled_document_of_the_hubs_api_is_the_generated_one():
    from pathlib import Path

    from django.conf import settings

    from scripts.hub_spec import TARGET, bundled

    source = Path(settings.BASE_DIR) / "tests" / "api" / "openapi.yaml"
    assert TARGET.read_text() == bundled(source.read_text()), "run `make openapi`"
