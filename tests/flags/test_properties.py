"""Unknown property names in rules are refused with the reason: a name is known when some
analytics person has it, when it is PostHog's own ($…) or built in, or when the tenant declared
it (API and page). A flag whose rules already name it keeps working (kill switch, rollback).
Tenant B (no names declared by the fixtures) is the tenant these tests work in."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.analytics.models import Person
from apps.flags import services
from apps.flags.models import DeclaredProperty, Flag
from tests.analytics.conftest import post_json
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
FLAGS = "/api/v1/flags/"
PROPERTIES = "/api/v1/flags/properties/"


def rule(key, kind="person"):
    return {"groups": [{"properties": [{"key": key, "operator": "exact", "value": "pro", "type": kind}]}]}


def writer(tenant):
    return api_client(tenant, make_key(tenant, scope_list=["flags:write"])[1])


def test_an_unknown_person_property_is_refused_naming_the_condition_and_how_to_declare_it(tenant_b):
    response = post_json(writer(tenant_b), FLAGS, {"key": "typo", "filters": rule("plna")})
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert error["field"] == "filters.groups.0.properties.0.key"
    assert "“plna” is not a known person property" in error["message"] and "declare it" in error["message"]


def test_a_property_some_person_has_a_posthog_property_and_a_declared_one_are_accepted(tenant_b):
    with schema_context(tenant_b.schema_name):
        Person.objects.create(properties={"plan": "pro"})
    client = writer(tenant_b)
    assert post_json(client, FLAGS, {"key": "seen", "filters": rule("plan")}).status_code == 201
    assert post_json(client, FLAGS, {"key": "sdk", "filters": rule("$browser")}).status_code == 201
    assert post_json(client, FLAGS, {"key": "org", "filters": rule("size", "group")}).status_code == 422
    declared = post_json(client, PROPERTIES, {"kind": "group", "key": "size"})
    assert declared.status_code == 201 and declared.json()["kind"] == "group"
    assert post_json(client, PROPERTIES, {"kind": "group", "key": "size"}).json()["id"] == declared.json()["id"]
    assert post_json(client, FLAGS, {"key": "org", "filters": rule("size", "group")}).status_code == 201
    assert [p["key"] for p in client.get(PROPERTIES).json()["results"]] == ["size"]
    bad = post_json(client, PROPERTIES, {"kind": "planet", "key": "x"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "kind"


def test_a_flag_naming_a_forgotten_property_can_still_be_switched_off_and_rolled_back(tenant_b):
    with schema_context(tenant_b.schema_name):
        declared = services.property_declare(tenant=tenant_b, actor=None, kind="person", key="tier")
        flag = services.flag_create(tenant=tenant_b, actor=None, key="tiered", filters=rule("tier"))
        services.flag_update(tenant=tenant_b, actor=None, flag=flag, name="renamed")
        services.property_forget(tenant=tenant_b, actor=None, declared=declared)
    client = writer(tenant_b)
    off = client.patch(f"{FLAGS}{flag.pk}/", json.dumps({"active": False}), content_type="application/json")
    assert off.status_code == 200 and off.json()["active"] is False
    assert post_json(client, f"{FLAGS}{flag.pk}/rollback/", {"version": 1}).status_code == 200
    another = {"groups": [*rule("tier")["groups"], *rule("colour")["groups"]]}
    refused = client.patch(f"{FLAGS}{flag.pk}/", json.dumps({"filters": another}), content_type="application/json")
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["filters.groups.1.properties.0.key"]


def test_members_declare_and_forget_properties_on_the_flags_page_and_viewers_cannot(tenant_b, owner_b):
    client = client_for(tenant_b, owner_b)
    page = client.get("/flags/").content.decode()
    assert 'id="properties"' in page and 'id="property-form"' in page
    assert client.post("/flags/properties/", {"kind": "person", "key": "plan"}).status_code == 302
    listed = client.get("/flags/").content.decode()
    assert "<code>plan</code>" in listed and "Forget" in listed
    empty = client.post("/flags/properties/", {"kind": "person", "key": " "})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    with schema_context(tenant_b.schema_name):
        declared = DeclaredProperty.objects.get(key="plan")
        from tests.factories import MembershipFactory

        viewer = MembershipFactory(tenant=tenant_b, role="viewer").user
    assert client_for(tenant_b, viewer).post("/flags/properties/", {"kind": "person", "key": "x"}).status_code == 403
    assert client_for(tenant_b, viewer).post(f"/flags/properties/{declared.pk}/forget/").status_code == 403
    assert client.post(f"/flags/properties/{declared.pk}/forget/").status_code == 302
    with schema_context(tenant_b.schema_name):
        assert not DeclaredProperty.objects.exists() and not Flag.objects.filter(key="x").exists()


def test_another_tenants_declared_property_cannot_be_forgotten(tenant_a, tenant_b, owner_b):
    with schema_context(tenant_a.schema_name):
        declared = DeclaredProperty.objects.get(kind="person", key="email")  # tenant A's (fixture)
    with schema_context(tenant_b.schema_name):
        b_has = DeclaredProperty.objects.filter(pk=declared.pk).exists()
    assert not b_has
    assert client_for(tenant_b, owner_b).post(f"/flags/properties/{declared.pk}/forget/").status_code == 404
    with schema_context(tenant_a.schema_name):
        assert DeclaredProperty.objects.filter(pk=declared.pk).exists()
