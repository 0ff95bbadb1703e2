"""The insights and dashboards pages: the builder of each kind (errors under their fields), save,
delete; dashboards with overrides, the layout, roles; the shared read-only link (tampered,
rotated, another tenant's: 404); another tenant's ids are 404; the default dashboard."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_tenants.utils import schema_context, tenant_context

from apps.analytics import selectors, services
from apps.analytics.models import Dashboard, Insight
from tests.conftest import client_for, provision_afresh
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
TRENDS = {"kind": "trends", "date_from": "2026-03-01", "date_to": "2026-03-07", "series": [{"event": "view"}]}


def _client(tenant, role):
    return client_for(tenant, MembershipFactory(tenant=tenant, role=role).user)


def _views(tenant, n=3):
    rows = [
        [
            datetime(2026, 3, 2, 12, i, tzinfo=UTC).isoformat(),
            f"00000000-0000-4000-8000-{i:012d}",
            "view",
            f"d{i}",
            json.dumps({"plan": "team" if i % 2 else "free"}),
            datetime(2026, 3, 2, 12, i, tzinfo=UTC).isoformat(),
            None,
        ]
        for i in range(n)
    ]
    with schema_context(tenant.schema_name):
        services.rows_write(rows)


def _dashboard(tenant, name="Growth", **kwargs):
    with schema_context(tenant.schema_name):
        insight = services.insight_create(tenant=tenant, actor=None, name="Views", query=TRENDS)
        dashboard = services.dashboard_create(tenant=tenant, actor=None, name=name, **kwargs)
        tile = services.tile_add(tenant=tenant, actor=None, dashboard=dashboard, insight=insight)
    return dashboard, tile, insight


def test_every_kind_has_a_builder_that_runs_and_draws_a_chart_and_a_table(tenant_a):
    client = _client(tenant_a, "viewer")
    for kind in ("trends", "funnel", "retention", "stickiness", "lifecycle"):
        page = client.get(f"/analytics/insights/new/{kind}/")
        assert page.status_code == 200, kind
        # A new funnel's second step is to fill in; the other kinds start with an answer.
        assert (page.context["answer"] is None) == (kind == "funnel"), kind
    _views(tenant_a)
    post = {
        "date_from": "2026-03-01",
        "date_to": "2026-03-07",
        "interval": "day",
        "breakdown_type": "event",
        "breakdown_limit": "5",
        "series-TOTAL_FORMS": "2",
        "series-INITIAL_FORMS": "0",
        "series-0-event": "view",
        "series-0-math": "total",
        "series-1-event": "",
        "series-1-math": "total",
        "filter-TOTAL_FORMS": "1",
        "filter-INITIAL_FORMS": "0",
        "filter-0-type": "event",
        "filter-0-key": "plan",
        "filter-0-op": "eq",
        "filter-0-value": "team",
    }
    run = client.post("/analytics/insights/new/trends/", post)
    assert run.status_code == 200
    html = run.content.decode()
    assert 'data-chart="insight-chart"' in html and '<th scope="row">2026-03-02</th>' in html
    # The filter keeps the odd ones of the 3 views: one.
    chart = json.loads(html.split('id="insight-chart" type="application/json">')[1].split("</script>")[0])
    assert chart["datasets"][0]["data"] == [0, 1, 0, 0, 0, 0, 0]


def test_the_engines_errors_land_under_their_fields(tenant_a):
    client = _client(tenant_a, "member")
    post = {
        "date_from": "2026-03-07",
        "date_to": "2026-03-01",
        "interval": "hour",
        "breakdown_type": "event",
        "breakdown_limit": "5",
        "series-TOTAL_FORMS": "1",
        "series-INITIAL_FORMS": "0",
        "series-0-event": "view",
        "series-0-math": "sum",
        "filter-TOTAL_FORMS": "1",
        "filter-INITIAL_FORMS": "0",
        "filter-0-type": "event",
        "filter-0-key": "amount",
        "filter-0-op": "gt",
        "filter-0-value": "lots",
    }
    page = client.post("/analytics/insights/new/trends/", post)
    assert page.status_code == 400
    html = page.content.decode()
    builder = page.context["builder"]
    assert builder.form.errors["date_to"] == ["date_to must be on or after date_from."]
    assert builder.rows[0].errors["property"] == ["Give a name (text)."]
    assert builder.filters[0].errors["value"] == ["Give a number."]
    assert 'aria-invalid="true"' in html and "Give a number." in html
    # Saving with no name: the name is the field at fault.
    post.update({"date_from": "2026-03-01", "date_to": "2026-03-07", "interval": "day", "series-0-math": "total"})
    post.update({"filter-0-key": "", "save": "1", "name": ""})
    unnamed = client.post("/analytics/insights/new/trends/", post)
    assert unnamed.status_code == 400 and unnamed.context["builder"].form.errors["name"] == ["Give the insight a name."]


def test_a_member_saves_renames_and_deletes_an_insight_a_viewer_cannot(tenant_a):
    member, viewer = _client(tenant_a, "member"), _client(tenant_a, "viewer")
    post = {
        "date_from": "2026-03-01",
        "date_to": "2026-03-07",
        "event": "view",
        "interval": "week",
        "filter-TOTAL_FORMS": "0",
        "filter-INITIAL_FORMS": "0",
        "save": "1",
        "name": "Weekly actives",
    }
    assert viewer.post("/analytics/insights/new/lifecycle/", post).status_code == 403
    saved = member.post("/analytics/insights/new/lifecycle/", post)
    assert saved.status_code == 302
    with schema_context(tenant_a.schema_name):
        insight = Insight.objects.get(name="Weekly actives")
    assert insight.query == {
        "kind": "lifecycle",
        "date_from": "2026-03-01",
        "date_to": "2026-03-07",
        "event": "view",
        "interval": "week",
    }
    page = member.get(f"/analytics/insights/{insight.pk}/")
    assert page.status_code == 200 and "Weekly actives" in page.content.decode()
    assert page.context["answer"]["chart"]["datasets"][0]["label"] == "New"  # drawn as saved, before any run
    renamed = member.post(f"/analytics/insights/{insight.pk}/", {**post, "name": "Actives by week"})
    assert renamed.status_code == 302
    listed = member.get("/analytics/insights/?q=actives").content.decode()
    assert "Actives by week" in listed and "data-confirm=" in listed
    assert viewer.post(f"/analytics/insights/{insight.pk}/delete/").status_code == 403
    assert member.post(f"/analytics/insights/{insight.pk}/delete/").status_code == 302
    with schema_context(tenant_a.schema_name):
        assert not Insight.objects.filter(pk=insight.pk).exists()


def test_a_dashboard_page_runs_every_tile_with_the_overrides(tenant_a):
    _views(tenant_a)
    dashboard, tile, _ = _dashboard(tenant_a, date_range="")
    client = _client(tenant_a, "viewer")
    page = client.get(f"/analytics/dashboards/{dashboard.pk}/")
    assert page.status_code == 200
    assert page.context["tiles"][0]["view"]["chart"]["datasets"][0]["data"] == [0, 3, 0, 0, 0, 0, 0]
    assert "data-layout-url" not in page.content.decode()  # a viewer cannot arrange
    custom = {
        "range": "custom",
        "date_from": "2026-03-02",
        "date_to": "2026-03-03",
        "f_key": "plan",
        "f_op": "eq",
        "f_value": "free",
    }
    narrowed = client.get(f"/analytics/dashboards/{dashboard.pk}/", custom)
    assert narrowed.context["tiles"][0]["view"]["chart"]["labels"] == ["2026-03-02", "2026-03-03"]
    assert narrowed.context["tiles"][0]["view"]["chart"]["datasets"][0]["data"] == [2, 0]
    tile_url = narrowed.context["tiles"][0]["url"]
    assert "f_value=free" in tile_url
    assert client.get(tile_url).status_code == 200
    bad = client.get(f"/analytics/dashboards/{dashboard.pk}/", {"range": "custom", "date_from": "2026-03-05"})
    assert bad.status_code == 400 and bad.context["override_form"].errors["date_to"] == ["Give the last day."]


def test_the_layout_is_saved_by_members_and_refused_with_words(tenant_a):
    dashboard, tile, _ = _dashboard(tenant_a)
    url = reverse("analytics:dashboard_layout", args=[dashboard.pk])
    member, viewer = _client(tenant_a, "member"), _client(tenant_a, "viewer")
    body = json.dumps({"layout": [{"id": tile.pk, "x": 2, "y": 1, "w": 10, "h": 4}]})
    assert viewer.post(url, body, content_type="application/json").status_code == 403
    saved = member.post(url, body, content_type="application/json")
    assert saved.status_code == 200 and saved.json() == {"layout": [{"id": tile.pk, "x": 2, "y": 1, "w": 10, "h": 4}]}
    refused = member.post(
        url, json.dumps({"layout": [{"id": tile.pk, "x": 8, "y": 0, "w": 6, "h": 3}]}), content_type="application/json"
    )
    assert refused.status_code == 400 and "layout.0.w" in refused.json()["errors"]
    assert member.post(url, "not json", content_type="application/json").status_code == 400


def test_another_tenants_insight_and_dashboard_are_404_on_every_page(tenant_a, tenant_b):
    dashboard, tile, insight = _dashboard(tenant_b)
    client = _client(tenant_a, "owner")
    for path in (
        f"/analytics/insights/{insight.pk}/",
        f"/analytics/dashboards/{dashboard.pk}/",
        f"/analytics/dashboards/{dashboard.pk}/tiles/{tile.pk}/",
    ):
        assert client.get(path).status_code == 404, path
    for path in (
        f"/analytics/insights/{insight.pk}/delete/",
        f"/analytics/dashboards/{dashboard.pk}/delete/",
        f"/analytics/dashboards/{dashboard.pk}/share/",
        f"/analytics/dashboards/{dashboard.pk}/settings/",
    ):
        assert client.post(path, {"action": "on", "name": "x", "date_range": "7d"}).status_code == 404, path
    with schema_context(tenant_b.schema_name):
        assert Dashboard.objects.filter(pk=dashboard.pk, shared=False).exists()


def test_the_read_only_link_shows_the_dashboard_alone_and_dies_when_tampered_rotated_or_moved(tenant_a, tenant_b):
    dashboard, tile, _ = _dashboard(tenant_a, name="Public numbers")
    member = _client(tenant_a, "member")
    assert member.post(f"/analytics/dashboards/{dashboard.pk}/share/", {"action": "on"}).status_code == 302
    with schema_context(tenant_a.schema_name):
        dashboard.refresh_from_db()
        token = selectors.share_token(dashboard=dashboard)
    anonymous = client_for(tenant_a)
    shared = anonymous.get(f"/analytics/shared/{token}/")
    assert shared.status_code == 200
    html = shared.content.decode()
    assert "Public numbers" in html and "sidenav" not in html and "Views" in html
    assert shared["Referrer-Policy"] == "no-referrer"
    assert anonymous.get(f"/analytics/shared/{token}/tiles/{tile.pk}/").status_code == 200
    value, signature = token.split(":", 1)
    changed = signature[:-1] + ("B" if signature.endswith("A") else "A")  # (a signature may end in A: 1 in 16)
    for bad in (f"{int(value) + 1}:{signature}", f"{value}:{changed}", "nothing", f"{value}:"):
        assert anonymous.get(f"/analytics/shared/{bad}/").status_code == 404, bad
    # The same link on another tenant's host opens nothing (even where an id matches).
    assert client_for(tenant_b).get(f"/analytics/shared/{token}/").status_code == 404
    member.post(f"/analytics/dashboards/{dashboard.pk}/share/", {"action": "rotate"})
    assert anonymous.get(f"/analytics/shared/{token}/").status_code == 404
    with schema_context(tenant_a.schema_name):
        dashboard.refresh_from_db()
        new_token = selectors.share_token(dashboard=dashboard)
    assert anonymous.get(f"/analytics/shared/{new_token}/").status_code == 200
    member.post(f"/analytics/dashboards/{dashboard.pk}/share/", {"action": "off"})
    assert anonymous.get(f"/analytics/shared/{new_token}/").status_code == 404


def test_dashboards_list_create_and_delete(tenant_a):
    member, viewer = _client(tenant_a, "member"), _client(tenant_a, "viewer")
    listed = viewer.get("/analytics/dashboards/")
    assert listed.status_code == 200 and "Overview" in listed.content.decode()  # the default one
    assert viewer.post("/analytics/dashboards/", {"name": "Mine", "date_range": "7d"}).status_code == 403
    refused = member.post("/analytics/dashboards/", {"name": "", "date_range": "7d"})
    assert refused.status_code == 400 and refused.context["form"].errors["name"]
    made = member.post("/analytics/dashboards/", {"name": "Sales", "date_range": "90d"})
    assert made.status_code == 302
    with schema_context(tenant_a.schema_name):
        sales = Dashboard.objects.get(name="Sales")
    assert sales.date_range == "90d"
    assert member.post(f"/analytics/dashboards/{sales.pk}/delete/").status_code == 302
    with schema_context(tenant_a.schema_name):
        assert not Dashboard.objects.filter(pk=sales.pk).exists()


def test_a_new_organisation_starts_with_the_default_dashboard():
    tenant, _ = provision_afresh("gamma")
    with tenant_context(tenant):
        default = Dashboard.objects.get(is_default=True)
        assert default.name == "Overview" and default.date_range == "30d"
        assert sorted(t.insight.name for t in default.tiles.all()) == [
            "Page views",
            "Unique visitors",
            "Visitors coming back",
            "Visitors: new, returning, dormant",
        ]
        # An organisation left without any dashboard (a schema the migration missed) gets it back.
        Dashboard.objects.all().delete()
        assert services.dashboard_default_ensure().is_default
        # One that deleted only its default keeps it deleted.
        Dashboard.objects.filter(is_default=True).delete()
        services.dashboard_create(tenant=tenant, actor=None, name="Own")
        assert services.dashboard_default_ensure() is None


def test_funnel_and_retention_answers_become_a_chart_and_a_table(tenant_a):
    _views(tenant_a)
    client = _client(tenant_a, "viewer")
    funnel = client.post(
        "/analytics/insights/new/funnel/",
        {
            "date_from": "2026-03-01",
            "date_to": "2026-03-07",
            "order": "ordered",
            "window_amount": "14",
            "window_unit": "days",
            "breakdown_type": "event",
            "breakdown_limit": "5",
            "step-TOTAL_FORMS": "3",
            "step-INITIAL_FORMS": "0",
            "step-0-event": "view",
            "step-1-event": "view",
            "step-2-event": "",
            "filter-TOTAL_FORMS": "0",
            "filter-INITIAL_FORMS": "0",
        },
    )
    assert funnel.status_code == 200
    answer = funnel.context["answer"]
    assert answer["chart"]["labels"] == ["1. view", "2. view"]
    assert [row[1] for row in answer["rows"]] == [3, 0]  # three persons, each with one view
    retention = client.post(
        "/analytics/insights/new/retention/",
        {
            "date_from": "2026-03-01",
            "date_to": "2026-03-07",
            "start_event": "view",
            "return_event": "view",
            "period": "day",
            "periods": "3",
            "retention_type": "first_time",
            "filter-TOTAL_FORMS": "0",
            "filter-INITIAL_FORMS": "0",
        },
    )
    cohorts = retention.context["answer"]["rows"]
    assert ["2026-03-02", 3, "3 (100 %)", "0 (0 %)", "0 (0 %)"] in cohorts


def test_a_writer_commit_sends_one_message_for_the_live_events_page_and_the_dashboards(
    tenant_a, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.analytics import services

    sent = []
    monkeypatch.setattr(services.realtime, "group_send", lambda group, message: sent.append((group, message)) or True)
    with schema_context(tenant_a.schema_name), django_capture_on_commit_callbacks(execute=True):
        services.rows_write([["2026-03-05T15:00:00+00:00", "00000000-0000-4000-8000-00000000c0de", "view", "one-msg",
                              "{}", "2026-03-05T15:00:00+00:00", None]])  # fmt: skip
    assert sent == [
        (
            f"hub.{tenant_a.schema_name}",
            {"type": "hub.signal", "name": "analytics.data_changed", "topic": "analytics.events", "count": 1},
        )
    ]


def test_a_warm_dashboard_draws_its_tiles_from_the_cache_until_new_events(tenant_a, django_capture_on_commit_callbacks):
    dashboard, tile, _ = _dashboard(tenant_a, date_range="")
    client = _client(tenant_a, "viewer")
    first = client.get(f"/analytics/dashboards/{dashboard.pk}/")
    assert first.context["tiles"][0]["view"] is not None  # drawn
    again = client.get(f"/analytics/dashboards/{dashboard.pk}/")
    assert again.context["tiles"][0]["view"] is None  # from the tile cache
    assert again.content.count(b'data-chart="tile-chart-') == 1
    with django_capture_on_commit_callbacks(execute=True):
        _views(tenant_a)  # the writer's commit bumps the version
    fresh = client.get(f"/analytics/dashboards/{dashboard.pk}/")
    assert fresh.context["tiles"][0]["view"]["chart"]["datasets"][0]["data"] == [0, 3, 0, 0, 0, 0, 0]


def test_the_override_form_is_drawn_the_same_blank_or_chosen(tenant_a):
    """Opened plainly, the page reuses the override form's fields drawn once per process; with
    choices it draws them with those values: the same fields either way."""
    from apps.analytics.views.dashboards import OverrideForm

    dashboard, _, _ = _dashboard(tenant_a, date_range="")
    client = _client(tenant_a, "member")
    url = reverse("analytics:dashboard", args=[dashboard.pk])
    blank = client.get(url).content.decode()
    assert "".join(str(field.as_field_group()) for field in OverrideForm(None)) in blank
    chosen = client.get(url, {"range": "7d", "f_key": "plan"}).content.decode()
    assert 'value="plan"' in chosen and 'value="plan"' not in blank
    for name in OverrideForm.base_fields:
        assert f'name="{name}"' in blank and f'name="{name}"' in chosen


def test_export_makes_a_report_of_the_tiles_insights_in_the_dashboards_order(tenant_a):
    from apps.analytics.models_reports import ReportJob

    dashboard, _, first = _dashboard(tenant_a, name="Board")
    with schema_context(tenant_a.schema_name):
        second = services.insight_create(tenant=tenant_a, actor=None, name="Second", query=TRENDS)
        services.tile_add(tenant=tenant_a, actor=None, dashboard=dashboard, insight=second)
    assert (
        "data-dashboard-export"
        not in _client(tenant_a, "viewer").get(f"/analytics/dashboards/{dashboard.pk}/").content.decode()
    )
    member = _client(tenant_a, "member")
    page = member.get(f"/analytics/dashboards/{dashboard.pk}/").content.decode()
    form = re.search(r"<form[^>]*data-dashboard-export.*?</form>", page, re.S).group(0)
    data = {
        "form": "report",
        "report-format": "csv",
        "report-title": re.search(r'name="report-title" value="([^"]+)"', form).group(1),
    }
    data["report-insight_ids"] = re.findall(r'name="report-insight_ids" value="(\d+)"', form)
    response = member.post("/analytics/reports/", data)
    with schema_context(tenant_a.schema_name):
        job = ReportJob.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == f"/analytics/reports/jobs/{job.pk}/"
    assert job.title == "Board" and job.format == "csv"
    assert data["report-insight_ids"] == [str(first.pk), str(second.pk)] and job.insight_ids == [first.pk, second.pk]
