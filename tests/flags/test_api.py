"""The flags API: CRUD with versions and rollback, evaluation with a server key or the browser
project key, exposures as analytics events, local definitions for secret keys only, PostHog's
/flags/ and /decide/ shapes, problem+json for bad input, and tenant isolation."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.events.models import Event as DomainEvent
from apps.flags import selectors
from apps.flags.models import Flag
from tests.analytics.conftest import host_client, post_json, project_key, stored, write
from tests.api.conftest import api_client, make_key

from .conftest import make_flag

pytestmark = pytest.mark.django_db
FLAGS = "/api/v1/flags/"
EVALUATE = "/api/v1/flags/evaluate"
VARIANTS = {"variants": [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]}


def writer(tenant, scopes=("flags:write",)):
    return api_client(tenant, make_key(tenant, scope_list=list(scopes))[1])


def test_flags_are_created_changed_versioned_and_rolled_back_through_the_api(tenant_a):
    client = writer(tenant_a)
    body = {"key": "beta", "filters": {"groups": [{"properties": [], "rollout_percentage": 10}]}}
    created = post_json(client, FLAGS, body)
    assert created.status_code == 201, created.content
    flag_id = created.json()["id"]
    changed = client.patch(
        f"{FLAGS}{flag_id}/",
        json.dumps({"filters": {"groups": [{"properties": [], "rollout_percentage": 60}]}}),
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    versions = client.get(f"{FLAGS}{flag_id}/versions/").json()
    assert [(v["version"], v["note"]) for v in versions] == [(2, "edited"), (1, "created")]
    assert versions[1]["definition"]["filters"]["groups"][0]["rollout_percentage"] == 10
    back = post_json(client, f"{FLAGS}{flag_id}/rollback/", {"version": 1})
    assert back.json()["version"] == 3 and back.json()["filters"]["groups"][0]["rollout_percentage"] == 10
    with schema_context(tenant_a.schema_name):
        types = list(DomainEvent.objects.filter(type__startswith="flags.").values_list("type", flat=True))
        assert sorted(types) == ["flags.flag_changed", "flags.flag_changed", "flags.flag_created"]
        from auditlog.models import LogEntry

        assert LogEntry.objects.get_for_model(Flag).filter(object_id=flag_id).count() == 3


@pytest.mark.parametrize(
    "body, field",
    [
        (
            {"key": "w", "filters": {"multivariate": {"variants": [{"key": "a", "rollout_percentage": 70}]}}},
            "filters.multivariate.variants",
        ),
        (
            {"key": "op", "filters": {"groups": [{"properties": [{"key": "x", "operator": "near", "value": 1}]}]}},
            "filters.groups.0.properties.0.operator",
        ),
        (
            {"key": "dep", "filters": {"groups": [{"properties": [{"type": "flag", "key": "nope", "value": True}]}]}},
            "filters.groups.0.properties.0.key",
        ),
        ({"key": "bad key!"}, "key"),
    ],
)
def test_bad_definitions_are_problems_naming_the_field(tenant_a, body, field):
    response = post_json(writer(tenant_a), FLAGS, body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


def test_a_cycle_is_refused_with_its_path(tenant_a):
    make_flag(tenant_a, "a")
    make_flag(tenant_a, "b", filters={"groups": [{"properties": [{"type": "flag", "key": "a", "value": True}]}]})
    with schema_context(tenant_a.schema_name):
        flag_a = Flag.objects.get(key="a")
    response = writer(tenant_a).patch(
        f"{FLAGS}{flag_a.pk}/",
        json.dumps({"filters": {"groups": [{"properties": [{"type": "flag", "key": "b", "value": True}]}]}}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "a → b → a" in response.json()["errors"][0]["message"]


def test_evaluate_with_a_server_key_gives_values_payloads_and_records_exposures(tenant_a):
    make_flag(
        tenant_a,
        "checkout",
        filters={
            "groups": [{"properties": [{"key": "plan", "operator": "exact", "value": "pro", "type": "person"}]}],
            "multivariate": VARIANTS,
            "payloads": {"test": {"colour": "green"}, "control": {"colour": "grey"}},
        },
    )
    make_flag(tenant_a, "off", active=False)
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["flags:read"])[1])
    answer = post_json(client, EVALUATE, {"distinct_id": "u1", "properties": {"plan": "pro"}})
    assert answer.status_code == 200, answer.content
    flags = answer.json()["flags"]
    assert flags["off"] == {"value": False, "enabled": False, "variant": None, "payload": None, "reason": "disabled"}
    assert flags["checkout"]["variant"] in ("control", "test")
    assert flags["checkout"]["payload"] == {"colour": "green" if flags["checkout"]["variant"] == "test" else "grey"}
    missing = post_json(client, EVALUATE, {"distinct_id": "u2", "groups": {"organisation": "acme"}}).json()
    assert missing["flags"]["checkout"]["value"] is False  # no plan sent: off
    assert missing["flags"]["checkout"]["reason"] == "no_condition_match"
    write(tenant_a)
    rows = stored(tenant_a, event="$feature_flag_called")
    assert {(r.distinct_id, r.properties["$feature_flag"]) for r in rows} >= {("u1", "checkout"), ("u1", "off")}
    # the caller's groups travel with the exposures (an organisation flag's experiment counts by them)
    assert {r.properties.get("$groups") is None for r in rows if r.distinct_id == "u1"} == {True}
    assert {str(r.properties.get("$groups")) for r in rows if r.distinct_id == "u2"} == {"{'organisation': 'acme'}"}


def test_evaluate_with_the_browser_project_key_but_not_the_definitions(tenant_a):
    make_flag(tenant_a, "banner")
    _, raw = project_key(tenant_a)
    client = host_client(tenant_a)
    by_body = post_json(client, EVALUATE, {"api_key": raw, "distinct_id": "u1", "exposures": False})
    assert by_body.json()["flags"]["banner"]["value"] is True
    by_header = post_json(client, EVALUATE, {"distinct_id": "u1"}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert by_header.status_code == 200
    assert client.get("/api/v1/flags/local-evaluation", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code in (401, 403)
    assert client.get("/flags/definitions", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code in (401, 403)
    assert post_json(client, FLAGS, {"api_key": raw, "key": "sneaky"}).status_code in (401, 403)


def test_bad_evaluate_input_is_a_problem_naming_the_field(tenant_a):
    client = api_client(tenant_a, make_key(tenant_a, scope_list=["flags:read"])[1])
    response = post_json(client, EVALUATE, {"properties": []})
    assert response.status_code == 422 or response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} >= {"distinct_id", "properties"}
    unknown = post_json(host_client(tenant_a), EVALUATE, {"api_key": "phc_00000000_nope", "distinct_id": "x"})
    assert unknown.status_code == 401


def test_local_definitions_for_secret_keys(tenant_a):
    make_flag(tenant_a, "scheduled", starts_at="2999-01-01T00:00:00Z", overrides={"qa": True})
    raw = make_key(tenant_a, scope_list=["flags:read"])[1]
    for path in (
        "/api/v1/flags/local-evaluation",
        "/flags/definitions?token=x&send_cohorts",
        "/api/feature_flag/local_evaluation/",
    ):
        answer = api_client(tenant_a, raw).get(path)
        assert answer.status_code == 200, (path, answer.content)
        [flag] = answer.json()["flags"]
        assert flag["key"] == "scheduled" and flag["active"] is False  # not started yet
        assert flag["filters"]["groups"][0]["properties"][0]["key"] == "distinct_id"
        assert answer.json()["group_type_mapping"] == {"0": "organisation"}
    no_scope = api_client(tenant_a, make_key(tenant_a, scope_list=["analytics:read"])[1])
    assert no_scope.get("/api/v1/flags/local-evaluation").status_code == 403


def test_posthog_flags_and_decide_shapes(tenant_a):
    make_flag(
        tenant_a,
        "ab",
        filters={
            "groups": [{"properties": []}],
            "multivariate": VARIANTS,
            "payloads": {"test": [1, 2], "control": {"a": 1}},
        },
    )
    make_flag(tenant_a, "on", filters={"groups": [{"properties": []}], "payloads": {"true": "hello"}})
    _, raw = project_key(tenant_a)
    client = host_client(tenant_a)
    v4 = post_json(client, "/flags/?v=4", {"api_key": raw, "distinct_id": "d1"}).json()
    assert v4["flags"]["on"]["enabled"] is True and v4["flags"]["on"]["metadata"]["payload"] == '"hello"'
    assert v4["flags"]["ab"]["variant"] in ("control", "test")
    v3 = post_json(client, "/decide/?v=3", {"token": raw, "distinct_id": "d1"}).json()
    assert v3["featureFlags"] == {"ab": v4["flags"]["ab"]["variant"], "on": True}
    assert v3["featureFlagPayloads"]["on"] == '"hello"'
    decide_v4 = post_json(client, "/decide/?v=4", {"token": raw, "distinct_id": "d1"}).json()
    assert decide_v4["flags"].keys() == {"ab", "on"}
    bad = post_json(client, "/flags/?v=4", {"api_key": raw})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "distinct_id"
    assert post_json(client, "/flags/?v=4", {"api_key": "phc_00000000_x", "distinct_id": "d"}).status_code == 401


def test_tenant_b_can_neither_see_nor_evaluate_nor_change_tenant_as_flags(tenant_a, tenant_b):
    flag = make_flag(tenant_a, "secret-a")
    client_b = api_client(tenant_b, make_key(tenant_b, scope_list=["flags:write"])[1])
    assert client_b.get(FLAGS).json()["results"] == []
    assert client_b.get(f"{FLAGS}{flag.pk}/").status_code == 404
    assert client_b.patch(f"{FLAGS}{flag.pk}/", "{}", content_type="application/json").status_code == 404
    assert client_b.delete(f"{FLAGS}{flag.pk}/").status_code == 404
    assert post_json(client_b, f"{FLAGS}{flag.pk}/rollback/", {"version": 1}).status_code == 404
    assert post_json(client_b, EVALUATE, {"distinct_id": "u"}).json()["flags"] == {}
    assert client_b.get("/api/v1/flags/local-evaluation").json()["flags"] == []
    _, raw_a = project_key(tenant_a)  # A's browser key on B's host is no key at all
    assert post_json(host_client(tenant_b), EVALUATE, {"api_key": raw_a, "distinct_id": "u"}).status_code == 401
    assert post_json(host_client(tenant_b), "/flags/", {"api_key": raw_a, "distinct_id": "u"}).status_code == 401
    key_a = make_key(tenant_a, scope_list=["flags:read"])[1]
    assert api_client(tenant_b, key_a).get("/flags/definitions").status_code == 401
    with schema_context(tenant_a.schema_name):
        assert Flag.objects.filter(key="secret-a").exists()
    selectors.forget()


def test_browsers_call_posthogs_endpoint_from_the_keys_allowed_origins_only(tenant_a):
    make_flag(tenant_a, "banner")
    _, raw = project_key(tenant_a, origins=["https://www.alpha.test"])
    client = host_client(tenant_a)
    preflight = client.options("/flags/", HTTP_ORIGIN="https://www.alpha.test")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "https://www.alpha.test"
    assert "Access-Control-Allow-Origin" not in client.options("/decide/", HTTP_ORIGIN="https://evil.test")
    allowed = post_json(
        client, "/flags/?v=4", {"api_key": raw, "distinct_id": "d"}, HTTP_ORIGIN="https://www.alpha.test"
    )
    assert allowed.status_code == 200 and allowed["Access-Control-Allow-Origin"] == "https://www.alpha.test"
    refused = post_json(client, "/flags/?v=4", {"api_key": raw, "distinct_id": "d"}, HTTP_ORIGIN="https://evil.test")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"


def test_browsers_call_evaluate_with_the_project_key_from_allowed_origins_only(tenant_a):
    make_flag(tenant_a, "banner")
    _, raw = project_key(tenant_a, origins=["https://www.alpha.test"])
    client = host_client(tenant_a)
    preflight = client.options(EVALUATE, HTTP_ORIGIN="https://www.alpha.test")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "https://www.alpha.test"
    body = {"api_key": raw, "distinct_id": "d", "exposures": False}
    allowed = post_json(client, EVALUATE, body, HTTP_ORIGIN="https://www.alpha.test")
    assert allowed.status_code == 200 and allowed["Access-Control-Allow-Origin"] == "https://www.alpha.test"
    assert post_json(client, EVALUATE, body, HTTP_ORIGIN="https://evil.test").status_code == 403
