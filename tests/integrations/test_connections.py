"""Connections: secrets stored encrypted and never returned by the API or shown on the pages,
validation naming the field, the connection test with its reason, events and audit, permissions
per role, and tenant isolation."""

import json

import pytest
from django.db import connection as db
from django_tenants.utils import schema_context

from apps.events.models import Event
from apps.integrations.models import Connection
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import make_connection

pytestmark = pytest.mark.django_db
CONNECTIONS = "/api/v1/integrations/connections/"


def writer(tenant, scopes=("integrations:write",)):
    return api_client(tenant, make_key(tenant, scope_list=list(scopes))[1])


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_secrets_are_encrypted_at_rest_and_never_returned(tenant_a, fake):
    client = writer(tenant_a)
    body = {
        "name": "Ops API",
        "connector": "http",
        "auth_type": "api_key",
        "base_url": fake.url,
        "settings": {"name": "X-Ops-Key"},
        "secrets": {"api_key": "very-secret-key"},
    }
    created = post(client, CONNECTIONS, body)
    assert created.status_code == 201, created.content
    assert "very-secret-key" not in created.content.decode()
    assert created.json()["has_secrets"] == ["api_key"] and "secrets" not in created.json()
    listed = client.get(CONNECTIONS).content.decode()
    assert "Ops API" in listed and "very-secret-key" not in listed
    with schema_context(tenant_a.schema_name), db.cursor() as cursor:
        cursor.execute("select secrets from integrations_connection where name = 'Ops API'")
        [stored] = cursor.fetchone()
    assert "very-secret-key" not in stored and stored.startswith("gAAAA")  # a Fernet token


def test_a_change_keeps_secrets_left_out_and_replaces_those_given(tenant_a, fake):
    conn = make_connection(tenant_a, base_url=fake.url, secrets={"token": "old"})
    client = writer(tenant_a)
    url = f"{CONNECTIONS}{conn.pk}/"
    renamed = client.patch(url, json.dumps({"name": "Renamed"}), content_type="application/json")
    assert renamed.status_code == 200, renamed.content
    with schema_context(tenant_a.schema_name):
        assert json.loads(Connection.objects.get(pk=conn.pk).secrets) == {"token": "old"}
    client.patch(url, json.dumps({"secrets": {"token": "new"}}), content_type="application/json")
    with schema_context(tenant_a.schema_name):
        assert json.loads(Connection.objects.get(pk=conn.pk).secrets) == {"token": "new"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"connector": "nope", "auth_type": "bearer", "secrets": {"token": "x"}}, "connector"),
        (
            {"connector": "slack", "auth_type": "basic", "settings": {"username": "u"}, "secrets": {"password": "p"}},
            "auth_type",
        ),
        ({"connector": "github", "auth_type": "bearer"}, "secrets.token"),
        (
            {
                "connector": "jira",
                "auth_type": "basic",
                "secrets": {"password": "p"},
                "base_url": "https://acme.atlassian.net/",
            },
            "settings.username",
        ),
        ({"connector": "http", "auth_type": "none", "base_url": "http://169.254.169.254/latest/"}, "base_url"),
        ({"connector": "http", "auth_type": "none"}, "base_url"),
        (
            {
                "connector": "http",
                "auth_type": "oauth2",
                "base_url": "https://x.example/",
                "settings": {"client_id": "c"},
                "secrets": {"client_secret": "s"},
            },
            "settings.token_url",
        ),
        (
            {
                "connector": "http",
                "auth_type": "bearer",
                "base_url": "https://x.example/",
                "secrets": {"token": "t", "pin": "1"},
            },
            "secrets",
        ),
    ],
)
def test_bad_connections_are_problems_naming_the_field(tenant_a, body, field):
    response = post(writer(tenant_a), CONNECTIONS, {"name": "Bad", **body})
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


def test_the_connection_test_records_working_or_the_reason_it_fails(tenant_a, fake):
    fake.route("GET", "/user")(
        lambda r: (
            (200, {"login": "octo"})
            if r.headers.get("authorization") == "Bearer good"
            else (401, {"message": "Bad credentials"})
        )
    )
    good = make_connection(tenant_a, name="GitHub", connector="github", base_url=fake.url, secrets={"token": "good"})
    bad = make_connection(tenant_a, name="GitHub old", connector="github", base_url=fake.url, secrets={"token": "old"})
    client = writer(tenant_a)
    answer = post(client, f"{CONNECTIONS}{good.pk}/test/", {}).json()
    assert answer == {"ok": True, "status": "working", "reason": "Signed in to GitHub as octo."}
    answer = post(client, f"{CONNECTIONS}{bad.pk}/test/", {}).json()
    assert answer["ok"] is False and answer["status"] == "expired"
    assert "401 Unauthorized: Bad credentials" in answer["reason"]
    with schema_context(tenant_a.schema_name):
        [failed] = Event.objects.filter(type="integrations.connection_failed")
        assert failed.payload["name"] == "GitHub old" and "Bad credentials" in failed.payload["reason"]


def test_a_service_that_is_down_fails_the_test_with_the_reason(tenant_a):
    from tests.processes import free_port

    conn = make_connection(tenant_a, name="Gone", connector="github", base_url=f"http://127.0.0.1:{free_port()}/")
    answer = post(writer(tenant_a), f"{CONNECTIONS}{conn.pk}/test/", {}).json()
    assert answer["status"] == "failing" and "down or unreachable" in answer["reason"]


def test_changes_publish_events_and_audit_entries_without_secrets(tenant_a, owner_a, fake):
    from auditlog.models import LogEntry

    client = writer(tenant_a)
    created = post(
        client,
        CONNECTIONS,
        {"name": "Hooks", "connector": "slack", "auth_type": "webhook", "secrets": {"url": f"{fake.url}/hook"}},
    )
    conn_id = created.json()["id"]
    client.patch(f"{CONNECTIONS}{conn_id}/", json.dumps({"name": "Hooks 2"}), content_type="application/json")
    assert client.delete(f"{CONNECTIONS}{conn_id}/").status_code == 204
    with schema_context(tenant_a.schema_name):
        types = sorted(Event.objects.filter(type__startswith="integrations.").values_list("type", flat=True))
        assert types == [
            "integrations.connection_changed",
            "integrations.connection_created",
            "integrations.connection_deleted",
        ]
        entries = LogEntry.objects.get_for_model(Connection).filter(object_id=conn_id)
        assert entries.count() == 3
        assert all("secrets" not in (e.changes_dict or {}) for e in entries)
        assert fake.url not in json.dumps([e.changes_dict for e in entries])


def test_read_scope_and_viewers_cannot_change_connections(tenant_a, fake):
    reader = writer(tenant_a, scopes=("integrations:read",))
    body = {"name": "X", "connector": "http", "auth_type": "none", "base_url": fake.url}
    assert post(reader, CONNECTIONS, body).status_code == 403
    member = MembershipFactory(tenant=tenant_a, role="member")
    page = client_for(tenant_a, member.user)
    assert page.get("/integrations/").status_code == 200
    assert page.get("/integrations/new/").status_code == 403
    conn = make_connection(tenant_a, base_url=fake.url)
    assert page.post(f"/integrations/{conn.pk}/", {"name": "Hijack"}).status_code == 403
    assert page.post(f"/integrations/{conn.pk}/delete/").status_code == 403
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    assert client_for(tenant_a, viewer.user).get("/integrations/").status_code == 403


def test_admins_add_a_connection_with_the_form_of_its_kind_and_test_it(tenant_a, owner_a, fake):
    fake.route("GET", "/user")(lambda r: (200, {"login": "octo"}))
    client = client_for(tenant_a, owner_a)
    form = client.get("/integrations/new/", {"connector": "github", "auth_type": "bearer"}).content.decode()
    assert 'name="token"' in form and 'type="password"' in form and 'name="username"' not in form
    refused = client.post("/integrations/new/?connector=github&auth_type=bearer", {"name": "GH", "base_url": fake.url})
    assert refused.status_code == 400 and "This field is required." in refused.content.decode()
    done = client.post(
        "/integrations/new/?connector=github&auth_type=bearer", {"name": "GH", "base_url": fake.url, "token": "tok-123"}
    )
    assert done.status_code == 302
    with schema_context(tenant_a.schema_name):
        conn = Connection.objects.get(name="GH")
    page = client.get(f"/integrations/{conn.pk}/").content.decode()
    assert "tok-123" not in page and "Test connection" in page and "data-confirm" in page
    client.post(f"/integrations/{conn.pk}/test/")
    page = client.get(f"/integrations/{conn.pk}/").content.decode()
    assert "Signed in to GitHub as octo." in page
    listing = client.get("/integrations/").content.decode()
    assert "GH" in listing and "Working" in listing
    wrong = client.get("/integrations/new/", {"connector": "slack", "auth_type": "basic"})
    assert wrong.status_code == 400 and "Slack takes" in wrong.content.decode()


def test_another_tenant_cannot_see_test_change_or_delete_a_connection(tenant_a, tenant_b, owner_b, fake):
    conn = make_connection(tenant_a, name="Only in A", base_url=fake.url)
    api_b = writer(tenant_b)
    assert api_b.get(f"{CONNECTIONS}{conn.pk}/").status_code == 404
    assert post(api_b, f"{CONNECTIONS}{conn.pk}/test/", {}).status_code == 404
    assert api_b.delete(f"{CONNECTIONS}{conn.pk}/").status_code == 404
    assert "Only in A" not in api_b.get(CONNECTIONS).content.decode()
    pages_b = client_for(tenant_b, owner_b)
    assert pages_b.get(f"/integrations/{conn.pk}/").status_code == 404
    assert pages_b.post(f"/integrations/{conn.pk}/delete/").status_code == 404
    assert "Only in A" not in pages_b.get("/integrations/").content.decode()
    with schema_context(tenant_a.schema_name):
        assert Connection.objects.filter(pk=conn.pk, name="Only in A").exists()
    # A workflow of B naming A's connection id finds nothing in its own schema.
    from apps.integrations.errors import CredentialError

    from .conftest import run_node

    with pytest.raises(CredentialError, match="There is no connection"):
        run_node(tenant_b, "http.request", {"credential": conn.pk, "path": "/"})
    assert fake.requests == []


def test_the_connector_catalogue_lists_actions_by_name_and_gives_schemas_when_asked(tenant_a):
    """130 services' actions with their JSON Schemas weigh megabytes: the list names them, and a
    connector's own entry (or ?expand=schemas) carries the schemas."""
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["integrations:read"])[1])
    listed = client.get("/api/v1/integrations/connectors/")
    assert listed.status_code == 200 and len(listed.content) < 1_000_000
    stripe = next(c for c in listed.json() if c["key"] == "stripe")
    assert {"key", "label", "description"} <= set(stripe["actions"][0]) and "input_schema" not in stripe["actions"][0]
    one = client.get("/api/v1/integrations/connectors/", {"key": "stripe"}).json()
    assert [c["key"] for c in one] == ["stripe"] and one[0]["actions"][0]["input_schema"]["type"] == "object"
    assert (
        "input_schema" in client.get("/api/v1/integrations/connectors/", {"expand": "schemas"}).json()[0]["actions"][0]
    )
    assert client.get("/api/v1/integrations/connectors/", {"key": "nothing-such"}).json() == []
    empty = client.get("/api/v1/integrations/connectors/", {"key": "", "expand": ""})
    assert empty.status_code == 400 and {e["field"] for e in empty.json()["errors"]} == {"key", "expand"}
    bad = client.get("/api/v1/integrations/connectors/", {"expand": "everything"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "expand"
