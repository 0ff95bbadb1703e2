"""The query endpoint and saved insights: roles, errors naming the field, the cache and its
invalidation, tenants kept apart."""

import json
from datetime import UTC, datetime

import pytest
from django_tenants.utils import schema_context

from apps.analytics import services
from apps.analytics.models import Insight
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

TRENDS = {"kind": "trends", "date_from": "2026-03-05", "date_to": "2026-03-06", "series": [{"event": "view"}]}


def _client(tenant, role):
    return client_for(tenant, MembershipFactory(tenant=tenant, role=role).user)


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def _write_view(tenant, n):
    row = [
        datetime(2026, 3, 5, 15, tzinfo=UTC).isoformat(),
        f"00000000-0000-4000-8000-{n:012d}",
        "view",
        "d0",
        "{}",
        datetime(2026, 3, 5, 15, tzinfo=UTC).isoformat(),
        None,
    ]
    with schema_context(tenant.schema_name):
        services.rows_write([row])


def test_a_viewer_runs_a_query_answered_from_rollups_then_the_cache(tenant_a, django_capture_on_commit_callbacks):
    client = _client(tenant_a, "viewer")
    with django_capture_on_commit_callbacks(execute=True):
        _write_view(tenant_a, 1)
    first = _post(client, "/api/v1/analytics/query", {"query": TRENDS})
    assert first.status_code == 200, first.content
    assert first.json() == {
        "kind": "trends",
        "source": "rollup",
        "cached": False,
        "result": {
            "labels": ["2026-03-05", "2026-03-06"],
            "series": [{"event": "view", "math": "total", "values": [1, 0]}],
        },
    }
    assert _post(client, "/api/v1/analytics/query", {"query": TRENDS}).json()["cached"] is True


def test_a_query_the_rollups_do_not_serve_says_it_ran_on_raw_events(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _write_view(tenant_a, 1)
    filtered = {**TRENDS, "filters": [{"key": "plan", "op": "is_not_set"}]}
    answer = _post(_client(tenant_a, "viewer"), "/api/v1/analytics/query", {"query": filtered}).json()
    assert (answer["source"], answer["result"]["series"][0]["values"]) == ("raw", [1, 0])


def test_new_events_of_the_tenant_invalidate_its_cached_answers(tenant_a, django_capture_on_commit_callbacks):
    client = _client(tenant_a, "viewer")
    assert _post(client, "/api/v1/analytics/query", {"query": TRENDS}).json()["result"]["series"][0]["values"] == [0, 0]
    with django_capture_on_commit_callbacks(execute=True):
        _write_view(tenant_a, 2)
    answer = _post(client, "/api/v1/analytics/query", {"query": TRENDS}).json()
    assert (answer["cached"], answer["result"]["series"][0]["values"]) == (False, [1, 0])


def test_a_bad_query_is_a_problem_naming_the_field(tenant_a):
    bad = {**TRENDS, "series": [{"event": "view", "math": "median"}], "interval": "fortnight"}
    response = _post(_client(tenant_a, "viewer"), "/api/v1/analytics/query", {"query": bad})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"query.series.0.math", "query.interval"}
    not_an_object = _post(_client(tenant_a, "viewer"), "/api/v1/analytics/query", {"query": [1]})
    assert [e["field"] for e in not_an_object.json()["errors"]] == ["query"]


def test_funnel_errors_name_the_step(tenant_a):
    bad = {"kind": "funnel", "date_from": "2026-03-05", "date_to": "2026-03-01", "steps": [{"event": ""}, {}]}
    response = _post(_client(tenant_a, "member"), "/api/v1/analytics/query", {"query": bad})
    assert {e["field"] for e in response.json()["errors"]} == {
        "query.date_to",
        "query.steps.0.event",
        "query.steps.1.event",
    }


def test_a_member_builds_insights_a_viewer_reads_them(tenant_a):
    member, viewer = _client(tenant_a, "member"), _client(tenant_a, "viewer")
    created = _post(member, "/api/v1/analytics/insights/", {"name": "Views", "query": TRENDS})
    assert created.status_code == 201, created.content
    insight_id = created.json()["id"]
    assert viewer.get(f"/api/v1/analytics/insights/{insight_id}/").json()["query"] == TRENDS
    result = viewer.get(f"/api/v1/analytics/insights/{insight_id}/result/")
    assert result.status_code == 200 and result.json()["kind"] == "trends"
    assert _post(viewer, "/api/v1/analytics/insights/", {"name": "Mine", "query": TRENDS}).status_code == 403
    assert viewer.delete(f"/api/v1/analytics/insights/{insight_id}/").status_code == 403
    changed = member.patch(
        f"/api/v1/analytics/insights/{insight_id}/", json.dumps({"name": "Page views"}), content_type="application/json"
    )
    assert changed.json()["name"] == "Page views"
    bad = member.patch(
        f"/api/v1/analytics/insights/{insight_id}/",
        json.dumps({"query": {"kind": "sankey"}}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["query.kind"]
    assert member.delete(f"/api/v1/analytics/insights/{insight_id}/").status_code == 204


def test_another_tenants_insights_are_not_found(tenant_a, tenant_b):
    with schema_context(tenant_b.schema_name):
        theirs = Insight.objects.create(name="only in beta", query=TRENDS)
    member = _client(tenant_a, "admin")
    with schema_context(tenant_a.schema_name):
        assert not Insight.objects.filter(pk=theirs.pk).exists()
    assert member.get(f"/api/v1/analytics/insights/{theirs.pk}/").status_code == 404
    assert member.delete(f"/api/v1/analytics/insights/{theirs.pk}/").status_code == 404
    assert "only in beta" not in member.get("/api/v1/analytics/insights/").content.decode()
    with schema_context(tenant_b.schema_name):
        assert Insight.objects.filter(pk=theirs.pk).exists()


def test_a_read_only_key_may_query_but_not_save(tenant_a):
    from tests.api.conftest import api_client, make_key

    client = api_client(tenant_a, make_key(tenant_a, scope_list=["analytics:read"])[1])
    answer = _post(client, "/api/v1/analytics/query", {"query": TRENDS})
    assert answer.status_code == 200, answer.content
    assert "RateLimit-Policy" in answer  # rate-limited like every API call
    refused = _post(client, "/api/v1/analytics/insights/", {"name": "x", "query": TRENDS})
    assert refused.status_code == 403


def test_saving_an_insight_is_audited_and_published(tenant_a):
    from auditlog.models import LogEntry

    from apps.events.models import Event as OutboxEvent

    member = MembershipFactory(tenant=tenant_a, role="member")
    created = _post(
        client_for(tenant_a, member.user), "/api/v1/analytics/insights/", {"name": "Views", "query": TRENDS}
    )
    with schema_context(tenant_a.schema_name):
        insight = Insight.objects.get(pk=created.json()["id"])
        entry = LogEntry.objects.get_for_object(insight).get()
        assert entry.actor == member.user
        event = OutboxEvent.objects.filter(type="analytics.insight_created").latest("id")
        assert event.payload == {"insight_id": insight.pk, "name": "Views", "kind": "trends"}


def test_days_are_the_organisations_days(tenant_a, django_capture_on_commit_callbacks):
    """An event at 04:30 UTC on the 6th is on the 5th in New York."""
    row = [
        datetime(2026, 3, 6, 4, 30, tzinfo=UTC).isoformat(),
        "00000000-0000-4000-8000-000000000009",
        "view",
        "d0",
        "{}",
        datetime(2026, 3, 6, 4, 30, tzinfo=UTC).isoformat(),
        None,
    ]
    with schema_context(tenant_a.schema_name):
        services.rows_write([row])
    before = tenant_a.time_zone
    tenant_a.time_zone = "America/New_York"
    tenant_a.save(update_fields=["time_zone"])
    try:
        answer = _post(_client(tenant_a, "viewer"), "/api/v1/analytics/query", {"query": TRENDS}).json()
    finally:
        tenant_a.time_zone = before
        tenant_a.save(update_fields=["time_zone"])
    assert answer["result"]["series"][0]["values"] == [1, 0]


@pytest.mark.parametrize(
    "bad, field",
    [
        ({**TRENDS, "filters": [{"key": "plan", "op": "eq", "value": "a\x00b"}]}, "query.filters.0.value"),
        ({**TRENDS, "filters": [{"key": "plan", "op": "gt", "value": "ten"}]}, "query.filters.0.value"),
        ({**TRENDS, "series": [{"event": "view\x00"}]}, "query.series.0.event"),
        ({**TRENDS, "series": [{"event": "buy", "math": "sum"}]}, "query.series.0.property"),
        ({**TRENDS, "date_to": "2027-12-31"}, "query.date_to"),
        ({**TRENDS, "interval": "hour", "date_from": "2026-01-01"}, "query.interval"),
        ({**TRENDS, "breakdown": {"property": "plan", "limit": 0}}, "query.breakdown.limit"),
        (
            {"kind": "funnel", "date_from": "2026-03-05", "date_to": "2026-03-05", "steps": [{"event": "a"}]},
            "query.steps",
        ),
        (
            {
                "kind": "funnel",
                "date_from": "2026-03-05",
                "date_to": "2026-03-05",
                "steps": [{"event": "a"}, {"event": "b"}],
                "window": {"weeks": 2},
            },
            "query.window",
        ),
        (
            {
                "kind": "retention",
                "date_from": "2026-03-05",
                "date_to": "2026-03-05",
                "start_event": "a",
                "return_event": "b",
                "periods": 0,
            },
            "query.periods",
        ),
        ({"kind": "lifecycle", "date_from": "03/05/2026", "date_to": "2026-03-05", "event": "a"}, "query.date_from"),
    ],
)
def test_each_bad_field_is_named(tenant_a, bad, field):
    response = _post(_client(tenant_a, "viewer"), "/api/v1/analytics/query", {"query": bad})
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]
