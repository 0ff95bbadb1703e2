"""Cohorts: built by members, seen by viewers, listed by distinct id or CSV, used as query filters
(a cohort the tenant does not have is a 422 naming the field), tenants kept apart, the pages."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.analytics import services
from apps.analytics.models import Cohort, Person, PersonDistinctId
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/analytics/cohorts/"
TRENDS = {
    "kind": "trends",
    "date_from": "2026-03-05",
    "date_to": "2026-03-05",
    "series": [{"event": "view", "math": "unique_persons"}],
}


def _client(tenant, role):
    return client_for(tenant, MembershipFactory(tenant=tenant, role=role).user)


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def _events(tenant, rows, *, merge=()):
    """Writes (n, event, distinct_id, at) rows and merges each (keep, gone) pair of distinct ids
    into one person, as $create_alias would."""
    with schema_context(tenant.schema_name):
        services.rows_write(
            [
                [at.isoformat(), f"00000000-0000-4000-8000-{n:012d}", event, d, "{}", at.isoformat(), None]
                for n, event, d, at in rows
            ]
        )
        for keep, gone in merge:
            person = PersonDistinctId.objects.get(distinct_id=keep).person
            old = PersonDistinctId.objects.get(distinct_id=gone).person
            PersonDistinctId.objects.filter(person=old).update(person=person)
            old.delete()


def _unique(client, filters) -> int:
    response = _post(client, "/api/v1/analytics/query", {"query": {**TRENDS, "filters": filters}})
    assert response.status_code == 200, response.content
    return response.json()["result"]["series"][0]["values"][0]


AT = datetime(2026, 3, 5, 15, tzinfo=UTC)


def test_a_static_cohort_filters_queries_and_a_merged_person_counts_once(tenant_a, django_capture_on_commit_callbacks):
    member, viewer = _client(tenant_a, "member"), _client(tenant_a, "viewer")
    _events(
        tenant_a,
        [(1, "view", "anon-1", AT), (2, "view", "user-1", AT), (3, "view", "user-2", AT), (4, "view", "user-3", AT)],
        merge=[("user-1", "anon-1")],
    )
    created = _post(member, API, {"name": "Beta testers", "kind": "static"})
    assert created.status_code == 201, created.content
    cohort_id = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        added = _post(member, f"{API}{cohort_id}/members/add/", {"distinct_ids": ["anon-1", "user-1", "later-9"]})
    assert added.json() == {"changed": 3}
    cohort = [{"type": "cohort", "op": "in", "value": cohort_id}]
    assert _unique(viewer, cohort) == 1  # anon-1 and user-1 are one person
    assert _unique(viewer, [{**cohort[0], "op": "not_in"}]) == 2
    members = viewer.get(f"{API}{cohort_id}/members/").json()["results"]
    assert [sorted(m["distinct_ids"]) for m in members] == [["anon-1", "user-1"]]

    # a CSV file adds more; the cached answer is not served after the change
    upload = SimpleUploadedFile("ids.csv", b"distinct_id\nuser-2\n\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = member.post(f"{API}{cohort_id}/members/upload/", {"file": upload})
    assert uploaded.status_code == 200, uploaded.content
    assert _unique(viewer, cohort) == 2
    # removing one id takes the whole person out
    with django_capture_on_commit_callbacks(execute=True):
        removed = _post(member, f"{API}{cohort_id}/members/remove/", {"distinct_ids": ["anon-1"]})
    assert removed.json() == {"changed": 2}
    assert _unique(viewer, cohort) == 1


def test_a_rule_based_cohort_by_property_and_behaviour(tenant_a):
    member = _client(tenant_a, "member")
    now = timezone.now()
    _events(
        tenant_a,
        [
            (11, "view", "p1", AT),
            (12, "view", "p2", AT),
            (13, "pay", "p1", now - timedelta(days=2)),
            (14, "pay", "p1", now - timedelta(days=1)),
            (15, "pay", "p2", now - timedelta(days=1)),
        ],
    )
    with schema_context(tenant_a.schema_name):
        Person.objects.filter(distinct_ids__distinct_id="p2").update(properties={"plan": "team"})
    body = {
        "name": "Payers",
        "kind": "rules",
        "filters": [{"type": "person", "key": "plan", "op": "ne", "value": "team"}],
        "behaviours": [{"event": "pay", "min_count": 2, "days": 7}],
    }
    created = _post(member, API, body)
    assert created.status_code == 201, created.content
    cohort = [{"type": "cohort", "op": "in", "value": created.json()["id"]}]
    assert _unique(member, cohort) == 1
    people = member.get(f"{API}{created.json()['id']}/members/").json()["results"]
    assert [p["distinct_ids"] for p in people] == [["p1"]]


def test_bad_cohorts_and_unknown_cohort_filters_are_problems_naming_the_field(tenant_a, tenant_b):
    member = _client(tenant_a, "member")
    bad = _post(member, API, {"name": "x", "kind": "rules", "behaviours": [{"event": "pay", "days": 0}]})
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["behaviours.0.days"]
    empty = _post(member, API, {"name": "x", "kind": "rules"})
    assert [e["field"] for e in empty.json()["errors"]] == ["filters"]
    wrong = {"type": "event", "key": "a", "op": "eq", "value": 1}
    wrong = _post(member, API, {"name": "x", "kind": "rules", "filters": [wrong]})
    assert [e["field"] for e in wrong.json()["errors"]] == ["filters.0.type"]

    other = _post(_client(tenant_b, "member"), API, {"name": "B's", "kind": "static"}).json()["id"]
    for value in (other, 999_999):
        query = {**TRENDS, "filters": [{"type": "cohort", "op": "in", "value": value}]}
        response = _post(member, "/api/v1/analytics/query", {"query": query})
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["query.filters.0.value"]
    bad_op = {**TRENDS, "filters": [{"type": "cohort", "op": "eq", "value": "seven"}]}
    response = _post(member, "/api/v1/analytics/insights/", {"name": "x", "query": bad_op})
    assert {e["field"] for e in response.json()["errors"]} == {"query.filters.0.op", "query.filters.0.value"}


def test_viewers_see_members_build_and_tenants_are_apart(tenant_a, tenant_b):
    viewer, member = _client(tenant_a, "viewer"), _client(tenant_a, "member")
    cohort_id = _post(member, API, {"name": "Mine", "kind": "static"}).json()["id"]
    assert viewer.get(API).status_code == 200
    assert viewer.get(f"{API}{cohort_id}/").json()["name"] == "Mine"
    assert _post(viewer, API, {"name": "No", "kind": "static"}).status_code == 403
    assert _post(viewer, f"{API}{cohort_id}/members/add/", {"distinct_ids": ["a"]}).status_code == 403
    assert viewer.delete(f"{API}{cohort_id}/").status_code == 403
    stranger = _client(tenant_b, "admin")
    assert stranger.get(f"{API}{cohort_id}/").status_code == 404
    assert stranger.get(f"{API}{cohort_id}/members/").status_code == 404
    assert _post(stranger, f"{API}{cohort_id}/members/add/", {"distinct_ids": ["a"]}).status_code == 404
    assert stranger.delete(f"{API}{cohort_id}/").status_code == 404
    assert cohort_id not in [c["id"] for c in stranger.get(API).json()["results"]]
    # a static cohort's rules, a rules cohort's members: refused in words
    rules = _post(member, API, {"name": "R", "kind": "rules", "behaviours": [{"event": "pay"}]}).json()["id"]
    refused = _post(member, f"{API}{rules}/members/add/", {"distinct_ids": ["a"]})
    assert refused.status_code == 422 and "static" in refused.json()["errors"][0]["message"]


def test_a_cohort_an_insight_uses_is_not_deleted(tenant_a):
    member = _client(tenant_a, "member")
    cohort_id = _post(member, API, {"name": "Kept", "kind": "static"}).json()["id"]
    query = {**TRENDS, "filters": [{"type": "cohort", "op": "in", "value": cohort_id}]}
    insight = _post(member, "/api/v1/analytics/insights/", {"name": "Kept users", "query": query})
    assert insight.status_code == 201, insight.content
    refused = member.delete(f"{API}{cohort_id}/")
    assert refused.status_code == 422 and "Kept users" in refused.json()["errors"][0]["message"]
    assert member.delete(f"/api/v1/analytics/insights/{insight.json()['id']}/").status_code == 204
    assert member.delete(f"{API}{cohort_id}/").status_code == 204


def test_the_pages_list_create_show_and_delete(tenant_a, tenant_b):
    member, viewer = _client(tenant_a, "member"), _client(tenant_a, "viewer")
    form = {
        "name": "Heavy payers",
        "description": "",
        "kind": "rules",
        "property-TOTAL_FORMS": "2",
        "property-INITIAL_FORMS": "0",
        "property-0-key": "plan",
        "property-0-op": "eq",
        "property-0-value": "team",
        "property-1-key": "",
        "property-1-op": "eq",
        "property-1-value": "",
        "behaviour-TOTAL_FORMS": "1",
        "behaviour-INITIAL_FORMS": "0",
        "behaviour-0-event": "pay",
        "behaviour-0-min_count": "0",
        "behaviour-0-days": "30",
    }
    bad = member.post("/analytics/cohorts/new/", form)
    assert bad.status_code == 400 and b"Ensure this value is greater than or equal to 1" in bad.content
    made = member.post("/analytics/cohorts/new/", {**form, "behaviour-0-min_count": "3"})
    assert made.status_code == 302, made.content
    with schema_context(tenant_a.schema_name):
        cohort = Cohort.objects.get(name="Heavy payers")
        assert cohort.filters == [{"type": "person", "key": "plan", "op": "eq", "value": "team"}]
        assert cohort.behaviours == [{"event": "pay", "min_count": 3, "days": 30}]
    page = viewer.get(f"/analytics/cohorts/{cohort.pk}/").content.decode()
    assert "Did pay at least 3 times in the last 30 days" in page and "Person property plan is team" in page
    assert "Heavy payers" in viewer.get("/analytics/cohorts/").content.decode()
    assert viewer.get("/analytics/cohorts/new/").status_code == 403
    assert viewer.post(f"/analytics/cohorts/{cohort.pk}/delete/").status_code == 403
    assert _client(tenant_b, "owner").get(f"/analytics/cohorts/{cohort.pk}/").status_code == 404
    assert _client(tenant_b, "owner").post(f"/analytics/cohorts/{cohort.pk}/delete/").status_code == 404

    static = member.post("/analytics/cohorts/new/", {**form, "name": "List", "kind": "static"})
    static_id = int(static["Location"].rstrip("/").rsplit("/", 1)[1])
    assert member.post(f"/analytics/cohorts/{static_id}/add/", {"distinct_ids": "a-1\na-2\n"}).status_code == 302
    bad_file = SimpleUploadedFile("ids.csv", b"\xff\xfe\x00", content_type="text/csv")
    refused = member.post(f"/analytics/cohorts/{static_id}/upload/", {"file": bad_file})
    assert refused.status_code == 400 and b"not UTF-8" in refused.content
    assert member.post(f"/analytics/cohorts/{cohort.pk}/delete/").status_code == 302
    with schema_context(tenant_a.schema_name):
        assert not Cohort.objects.filter(pk=cohort.pk).exists()
        assert Cohort.objects.get(pk=static_id).members.count() == 2


def test_bad_uploads_and_bad_paths_queries_are_problems_naming_the_field(tenant_a):
    member = _client(tenant_a, "member")
    cohort_id = _post(member, API, {"name": "Uploads", "kind": "static"}).json()["id"]
    for content, words in (
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"distinct_id\n\n", "lists no distinct ids"),
        (b"ok\n" + b"x" * 201 + b"\n", "Line 2"),
    ):
        upload = SimpleUploadedFile("ids.csv", content, content_type="text/csv")
        response = member.post(f"{API}{cohort_id}/members/upload/", {"file": upload})
        assert response.status_code == 422, response.content
        assert response.json()["errors"][0]["field"] == "file" and words in response.json()["errors"][0]["message"]

    paths = {"kind": "paths", "date_from": "2026-03-05", "date_to": "2026-03-05"}
    cases = [
        ({}, {"query.start_event"}),
        ({"start_event": "a", "end_event": "b"}, {"query.start_event"}),
        ({"start_event": "a", "exclude_events": ["a"], "steps": 11}, {"query.exclude_events", "query.steps"}),
        ({"end_event": "b", "session_minutes": 0, "limit": "ten"}, {"query.session_minutes", "query.limit"}),
        (
            {"start_event": "a", "filters": [{"type": "cohort", "op": "in", "value": 987_654}]},
            {"query.filters.0.value"},
        ),
    ]
    for extra, fields in cases:
        response = _post(member, "/api/v1/analytics/query", {"query": {**paths, **extra}})
        assert response.status_code == 422, (extra, response.content)
        assert {e["field"] for e in response.json()["errors"]} == fields, extra
    good = _post(member, "/api/v1/analytics/query", {"query": {**paths, "start_event": "view"}})
    assert good.status_code == 200 and good.json()["result"] == {"paths": 0, "nodes": [], "links": []}
    funnel = {
        "kind": "funnel",
        "date_from": "2026-03-05",
        "date_to": "2026-03-05",
        "steps": [{"event": "a"}, {"event": "b", "filters": [{"type": "cohort", "op": "in", "value": 987_654}]}],
    }
    response = _post(member, "/api/v1/analytics/query", {"query": funnel})
    assert [e["field"] for e in response.json()["errors"]] == ["query.steps.1.filters.0.value"]
