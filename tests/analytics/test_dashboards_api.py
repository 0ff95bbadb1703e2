"""/api/v1/analytics/dashboards/: create, tiles, layout, overrides, sharing; roles; another
tenant's dashboards and insights are 404; errors name the field."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.analytics import services
from apps.analytics.models import Dashboard, DashboardTile, Insight
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/analytics/dashboards/"
TRENDS = {"kind": "trends", "date_from": "2026-03-01", "date_to": "2026-03-07", "series": [{"event": "view"}]}


def _client(tenant, role):
    return client_for(tenant, MembershipFactory(tenant=tenant, role=role).user)


def _send(client, method, path, body=None):
    return getattr(client, method)(path, json.dumps(body or {}), content_type="application/json")


def _insight(tenant, name="Views"):
    with schema_context(tenant.schema_name):
        return services.insight_create(tenant=tenant, actor=None, name=name, query=TRENDS)


def test_a_member_builds_a_dashboard_with_tiles_and_a_layout(tenant_a):
    client = _client(tenant_a, "member")
    insight = _insight(tenant_a)
    made = _send(client, "post", BASE, {"name": "Growth", "date_range": "7d"})
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert made["Location"].endswith(f"{BASE}{pk}/")
    first = _send(client, "post", f"{BASE}{pk}/tiles/", {"insight": insight.pk})
    second = _send(client, "post", f"{BASE}{pk}/tiles/", {"insight": insight.pk, "title": "Again", "w": 4, "h": 2})
    assert first.status_code == second.status_code == 201
    # Placed in the first free spots: side by side.
    assert (first.json()["x"], first.json()["y"], second.json()["x"], second.json()["y"]) == (0, 0, 6, 0)
    layout = [
        {"id": first.json()["id"], "x": 0, "y": 0, "w": 12, "h": 2},
        {"id": second.json()["id"], "x": 0, "y": 2, "w": 3, "h": 4},
    ]
    placed = _send(client, "post", f"{BASE}{pk}/layout/", {"layout": layout})
    assert placed.status_code == 200, placed.content
    assert [t["id"] for t in placed.json()["tiles"]] == [first.json()["id"], second.json()["id"]]
    shown = client.get(f"{BASE}{pk}/").json()
    assert [(t["x"], t["y"], t["w"], t["h"]) for t in shown["tiles"]] == [(0, 0, 12, 2), (0, 2, 3, 4)]
    assert shown["tiles"][1]["title"] == "Again" and shown["tiles"][0]["insight_name"] == "Views"
    renamed = _send(client, "patch", f"{BASE}{pk}/tiles/{second.json()['id']}/", {"title": "Views again"})
    assert renamed.json()["title"] == "Views again"
    assert client.delete(f"{BASE}{pk}/tiles/{second.json()['id']}/").status_code == 204
    with schema_context(tenant_a.schema_name):
        assert DashboardTile.objects.filter(dashboard_id=pk).count() == 1


def test_layout_errors_name_the_entry(tenant_a):
    client = _client(tenant_a, "member")
    insight = _insight(tenant_a)
    pk = _send(client, "post", BASE, {"name": "Growth"}).json()["id"]
    a = _send(client, "post", f"{BASE}{pk}/tiles/", {"insight": insight.pk}).json()["id"]
    b = _send(client, "post", f"{BASE}{pk}/tiles/", {"insight": insight.pk}).json()["id"]
    cases = [
        ([{"id": a, "x": 10, "y": 0, "w": 6, "h": 3}], "layout.0.w"),
        ([{"id": a, "x": 0, "y": 0, "w": 6, "h": 9}], "layout.0.h"),
        ([{"id": 999999, "x": 0, "y": 0, "w": 6, "h": 3}], "layout.0.id"),
        ([{"id": a, "x": 0, "y": 0, "w": 6, "h": 3}, {"id": b, "x": 3, "y": 1, "w": 6, "h": 3}], "layout"),
    ]
    for layout, field in cases:
        response = _send(client, "post", f"{BASE}{pk}/layout/", {"layout": layout})
        assert response.status_code == 422, (layout, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    not_a_list = _send(client, "post", f"{BASE}{pk}/layout/", {"layout": "no"})
    assert not_a_list.status_code == 400 and not_a_list.json()["errors"][0]["field"].startswith("layout")


def test_bad_fields_are_problems_naming_the_field(tenant_a):
    client = _client(tenant_a, "member")
    bad_range = _send(client, "post", BASE, {"name": "X", "date_range": "3d"})
    assert bad_range.status_code == 400 and bad_range.json()["errors"][0]["field"] == "date_range"
    bad_filter = _send(client, "post", BASE, {"name": "X", "filters": [{"key": "plan", "op": "bigger", "value": 1}]})
    assert bad_filter.status_code == 422
    assert [e["field"] for e in bad_filter.json()["errors"]] == ["filters.0.op"]
    no_name = _send(client, "post", BASE, {"name": "   "})
    assert no_name.status_code in (400, 422) and no_name.json()["errors"][0]["field"] == "name"
    pk = _send(client, "post", BASE, {"name": "Y"}).json()["id"]
    unknown_insight = _send(client, "post", f"{BASE}{pk}/tiles/", {"insight": 987654})
    assert unknown_insight.status_code == 422 and unknown_insight.json()["errors"][0]["field"] == "insight"


def test_a_viewer_sees_dashboards_but_cannot_build_them(tenant_a):
    with schema_context(tenant_a.schema_name):
        dashboard = services.dashboard_create(tenant=tenant_a, actor=None, name="Seen")
    viewer = _client(tenant_a, "viewer")
    assert viewer.get(f"{BASE}{dashboard.pk}/").status_code == 200
    assert any(d["name"] == "Seen" for d in viewer.get(BASE).json()["results"])
    assert _send(viewer, "post", BASE, {"name": "Mine"}).status_code == 403
    assert _send(viewer, "patch", f"{BASE}{dashboard.pk}/", {"name": "Renamed"}).status_code == 403
    assert _send(viewer, "post", f"{BASE}{dashboard.pk}/share/").status_code == 403
    assert viewer.delete(f"{BASE}{dashboard.pk}/").status_code == 403


def test_another_tenants_dashboard_and_insight_are_not_found(tenant_a, tenant_b):
    with schema_context(tenant_b.schema_name):
        theirs = services.dashboard_create(tenant=tenant_b, actor=None, name="Beta's")
    their_insight = _insight(tenant_b, "Beta views")
    client = _client(tenant_a, "owner")
    assert client.get(f"{BASE}{theirs.pk}/").status_code == 404
    assert _send(client, "patch", f"{BASE}{theirs.pk}/", {"name": "Mine now"}).status_code == 404
    assert _send(client, "post", f"{BASE}{theirs.pk}/share/").status_code == 404
    assert client.delete(f"{BASE}{theirs.pk}/").status_code == 404
    assert all(d["name"] != "Beta's" for d in client.get(BASE).json()["results"])
    mine = _send(client, "post", BASE, {"name": "Alpha's"}).json()["id"]
    with schema_context(tenant_a.schema_name):
        assert not Insight.objects.filter(pk=their_insight.pk, name="Beta views").exists()
    refused = _send(client, "post", f"{BASE}{mine}/tiles/", {"insight": their_insight.pk})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "insight"
    with schema_context(tenant_b.schema_name):
        assert Dashboard.objects.get(pk=theirs.pk).name == "Beta's"


def test_sharing_gives_a_link_and_rotating_or_turning_off_kills_it(tenant_a):
    client = _client(tenant_a, "member")
    pk = _send(client, "post", BASE, {"name": "Public numbers"}).json()["id"]
    shared = _send(client, "post", f"{BASE}{pk}/share/")
    assert shared.status_code == 200 and shared.json()["shared"] is True
    url = shared.json()["url"]
    assert "/analytics/shared/" in url
    path = url.split("://", 1)[1].split("/", 1)[1]
    anonymous = client_for(tenant_a)
    assert anonymous.get(f"/{path}").status_code == 200
    rotated = _send(client, "post", f"{BASE}{pk}/share/", {"rotate": True}).json()["url"]
    assert rotated != url
    assert anonymous.get(f"/{path}").status_code == 404
    off = _send(client, "post", f"{BASE}{pk}/unshare/")
    assert off.json() == {"shared": False, "url": ""}
    assert anonymous.get("/" + rotated.split("://", 1)[1].split("/", 1)[1]).status_code == 404


def test_dashboard_changes_are_in_the_audit_log_without_the_share_secret(tenant_a):
    from auditlog.models import LogEntry

    client = _client(tenant_a, "member")
    pk = _send(client, "post", BASE, {"name": "Audited"}).json()["id"]
    _send(client, "post", f"{BASE}{pk}/share/")
    with schema_context(tenant_a.schema_name):
        entries = LogEntry.objects.get_for_object(Dashboard.objects.get(pk=pk))
        assert entries.count() >= 2
        assert all("share_secret" not in (entry.changes or {}) for entry in entries)
        assert any("shared" in (entry.changes or {}) for entry in entries)
