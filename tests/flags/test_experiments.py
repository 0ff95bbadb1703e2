"""Experiments: created on a multivariate flag through the API and the pages, bad input refused
naming the field, start/stop/ship (the flag's new version, audited, on the spine), results read
from events captured through the analytics capture API, the sample-ratio warning, roles and
tenant isolation."""

import json
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.analytics.models import EventStoreChoice
from apps.analytics.stores import clickhouse
from apps.events.models import Event as DomainEvent
from apps.flags import experiments, selectors, stats
from apps.flags.models import Experiment, Flag, FlagVersion
from tests.analytics.conftest import host_client, post_json, project_key, write
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import make_flag

pytestmark = pytest.mark.django_db
EXPERIMENTS = "/api/v1/experiments/"
VARIANTS = {"variants": [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]}
BUY = {"kind": "funnel", "event": "purchase"}


def writer(tenant):
    return api_client(tenant, make_key(tenant, scope_list=["flags:write"])[1])


def ab_flag(tenant, key="checkout-ab"):
    return make_flag(
        tenant, key, filters={"groups": [{"properties": [], "rollout_percentage": 100}], "multivariate": VARIANTS}
    )


def make_experiment(tenant, flag, **fields):
    fields.setdefault("primary_metric", BUY)
    with schema_context(tenant.schema_name):
        return experiments.experiment_create(tenant=tenant, actor=None, flag=flag, name="Checkout test", **fields)


def test_an_experiment_is_created_started_and_stopped_through_the_api_with_its_sample_size(tenant_a):
    flag = ab_flag(tenant_a)
    client = writer(tenant_a)
    body = {
        "name": "Checkout",
        "flag": flag.pk,
        "primary_metric": BUY,
        "secondary_metrics": [
            {"kind": "count", "event": "$pageview"},
            {"kind": "mean", "event": "purchase", "property": "amount"},
        ],
        "baseline_rate": 0.05,
        "mde": 0.2,
        "power": 0.9,
    }
    created = post_json(client, EXPERIMENTS, body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "draft" and data["flag_key"] == "checkout-ab"
    assert data["target_per_variant"] == stats.sample_size(baseline=0.05, mde=0.2, alpha=0.05, power=0.9) == 10901
    started = post_json(client, f"{EXPERIMENTS}{data['id']}/start/", {})
    assert started.status_code == 200 and started.json()["status"] == "running" and started.json()["started_at"]
    again = post_json(client, f"{EXPERIMENTS}{data['id']}/start/", {})
    assert again.status_code == 422 and "status" in {e["field"] for e in again.json()["errors"]}
    stopped = post_json(client, f"{EXPERIMENTS}{data['id']}/stop/", {})
    assert stopped.json()["status"] == "stopped" and stopped.json()["ended_at"]
    with schema_context(tenant_a.schema_name):
        types = sorted(DomainEvent.objects.filter(type__startswith="flags.experiment").values_list("type", flat=True))
        assert types == ["flags.experiment_created", "flags.experiment_started", "flags.experiment_stopped"]
        assert LogEntry.objects.get_for_model(Experiment).filter(object_id=data["id"]).count() == 3


@pytest.mark.parametrize(
    "change, field",
    [
        ({"primary_metric": {"kind": "median", "event": "x"}}, "primary_metric.kind"),
        ({"primary_metric": {"kind": "mean", "event": "purchase"}}, "primary_metric.property"),
        ({"primary_metric": {"kind": "funnel", "event": ""}}, "primary_metric.event"),
        ({"secondary_metrics": [BUY, {"kind": "count"}]}, "secondary_metrics.1.event"),
        (
            {"primary_metric": {**BUY, "filters": [{"type": "event", "key": "k", "op": "near"}]}},
            "primary_metric.filters.0.op",
        ),
        (
            {"primary_metric": {**BUY, "filters": [{"type": "person", "key": "k", "op": "is_set"}]}},
            "primary_metric.filters.0.type",
        ),
        ({"primary_metric": {**BUY, "filters": "plan=pro"}}, "primary_metric.filters"),
        ({"baseline_rate": 1.5}, "baseline_rate"),
        ({"mde": 0}, "mde"),
        ({"mde": 9}, "mde"),  # 10 × the baseline is no rate
        ({"power": 1}, "power"),
        ({"name": ""}, "name"),
        ({"flag": 999999}, "flag"),
    ],
)
def test_bad_experiments_are_problems_naming_the_field(tenant_a, change, field):
    flag = ab_flag(tenant_a)
    body = {"name": "X", "flag": flag.pk, "primary_metric": BUY, **change}
    response = post_json(writer(tenant_a), EXPERIMENTS, body)
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}, response.json()


def test_a_flag_without_control_and_another_variant_is_refused_with_the_reason(tenant_a):
    boolean = make_flag(tenant_a, "plain")
    response = post_json(writer(tenant_a), EXPERIMENTS, {"name": "X", "flag": boolean.pk, "primary_metric": BUY})
    assert response.status_code == 422
    assert any("control" in e["message"] and e["field"] == "flag" for e in response.json()["errors"])
    flag = ab_flag(tenant_a)
    make_experiment(tenant_a, flag)
    second = post_json(writer(tenant_a), EXPERIMENTS, {"name": "Y", "flag": flag.pk, "primary_metric": BUY})
    assert second.status_code == 422 and "Another experiment" in second.content.decode()


def test_the_flag_of_an_experiment_cannot_change_and_a_switched_off_flag_cannot_start(tenant_a):
    flag = ab_flag(tenant_a)
    other = ab_flag(tenant_a, "other-ab")
    experiment = make_experiment(tenant_a, flag)
    client = writer(tenant_a)
    moved = client.patch(
        f"{EXPERIMENTS}{experiment.pk}/", json.dumps({"flag": other.pk}), content_type="application/json"
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "flag"
    renamed = client.patch(
        f"{EXPERIMENTS}{experiment.pk}/", json.dumps({"name": "Renamed"}), content_type="application/json"
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    with schema_context(tenant_a.schema_name):
        Flag.objects.filter(pk=flag.pk).update(active=False)
    refused = post_json(client, f"{EXPERIMENTS}{experiment.pk}/start/", {})
    assert refused.status_code == 422 and "Switch the flag" in refused.content.decode()


def test_shipping_a_variant_serves_it_to_everyone_as_a_new_flag_version(tenant_a):
    flag = ab_flag(tenant_a)
    experiment = make_experiment(tenant_a, flag)
    client = writer(tenant_a)
    not_started = post_json(client, f"{EXPERIMENTS}{experiment.pk}/ship/", {"variant": "test"})
    assert not_started.status_code == 422
    post_json(client, f"{EXPERIMENTS}{experiment.pk}/start/", {})
    unknown = post_json(client, f"{EXPERIMENTS}{experiment.pk}/ship/", {"variant": "nope"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "variant"
    shipped = post_json(client, f"{EXPERIMENTS}{experiment.pk}/ship/", {"variant": "test"})
    assert shipped.status_code == 200, shipped.content
    assert shipped.json()["status"] == "stopped" and shipped.json()["shipped_variant"] == "test"
    with schema_context(tenant_a.schema_name):
        flag.refresh_from_db()
        assert flag.version == 2
        assert {v["key"]: v["rollout_percentage"] for v in flag.filters["multivariate"]["variants"]} == {
            "control": 0,
            "test": 100,
        }
        assert FlagVersion.objects.get(flag=flag, version=2).note == "shipped “test” (experiment “Checkout test”)"
        assert LogEntry.objects.get_for_model(Flag).filter(object_id=flag.pk).count() == 2
        selectors.forget()
        results = selectors.evaluate(distinct_id="anyone", keys={"checkout-ab"})
        assert all(selectors.evaluate(distinct_id=f"u{i}")["checkout-ab"].value == "test" for i in range(50))
        assert results["checkout-ab"].value == "test"
        assert DomainEvent.objects.filter(type="flags.experiment_shipped").get().payload["variant"] == "test"


# --- Results from captured events ----------------------------------------------------------------


def _exposure(distinct_id, variant, at, flag="checkout-ab"):
    properties = {"$feature_flag": flag, "$feature_flag_response": variant}
    return {"event": "$feature_flag_called", "distinct_id": distinct_id, "properties": properties, "timestamp": at}


def _goal(distinct_id, at, amount=None, event="purchase"):
    return {
        "event": event,
        "distinct_id": distinct_id,
        "properties": {} if amount is None else {"amount": amount},
        "timestamp": at,
    }


def _started(tenant, experiment, minutes_ago=60):
    with schema_context(tenant.schema_name):
        experiments.experiment_start(tenant=tenant, actor=None, experiment=experiment)
        Experiment.objects.filter(pk=experiment.pk).update(started_at=timezone.now() - timedelta(minutes=minutes_ago))


def _capture(tenant, events):
    key = project_key(tenant)[1]
    response = post_json(host_client(tenant), "/batch/", {"api_key": key, "batch": events})
    assert response.status_code == 200, response.content
    write(tenant)


def iso(moment):
    return moment.isoformat()


@pytest.fixture(params=["postgres", "clickhouse"])
def store(request, tenant_a):
    """tenant_a's events in each store (its ClickHouse database dropped afterwards)."""
    with schema_context(tenant_a.schema_name):
        EventStoreChoice.objects.update_or_create(pk=1, defaults={"store": request.param})
    yield request.param
    if request.param == "clickhouse":
        clickhouse.tables_drop(tenant_a.schema_name)


def test_results_page_and_api_show_the_counts_of_events_captured_through_the_capture_api(tenant_a, owner_a, store):
    flag = ab_flag(tenant_a)
    experiment = make_experiment(
        tenant_a,
        flag,
        secondary_metrics=[
            {"kind": "count", "event": "purchase"},
            {"kind": "mean", "event": "purchase", "property": "amount"},
        ],
    )
    _started(tenant_a, experiment)
    now = timezone.now()
    exposed, before, after = (
        iso(now - timedelta(minutes=30)),
        iso(now - timedelta(minutes=40)),
        iso(now - timedelta(minutes=20)),
    )
    events = []
    for i in range(10):
        events.append(_exposure(f"c{i}", "control", exposed))
        events.append(_exposure(f"t{i}", "test", exposed))
        events.append(_exposure(f"t{i}", "test", after))  # exposed again: still one person
    events += [_goal(f"c{i}", after, 10) for i in range(3)]  # 3 of 10 control persons convert
    events += [_goal(f"t{i}", after, 20) for i in range(6)]  # 6 of 10 test persons convert,
    events += [_goal("t0", after, 5)]  # one of them twice
    events += [_goal("c9", before, 10)]  # before the exposure: not a conversion
    events += [_goal("c8", iso(now - timedelta(minutes=90)))]  # before the start: not counted
    events += [_exposure("both", "control", exposed), _exposure("both", "test", after)]  # served both: left out
    events += [_exposure("x1", "control", exposed, flag="another-flag")]  # another flag: not exposed here
    events += [_goal("nobody", after, 99)]  # never exposed
    _capture(tenant_a, events)

    client = writer(tenant_a)
    results = client.get(f"{EXPERIMENTS}{experiment.pk}/results/").json()
    assert results["exposures"] == {"control": 10, "test": 10} and results["mixed"] == 1
    funnel, count, mean = results["metrics"]
    assert [(v["key"], v["exposed"], v["converted"]) for v in funnel["variants"]] == [
        ("control", 10, 3),
        ("test", 10, 6),
    ]
    assert funnel["variants"][1]["uplift"] == pytest.approx(1.0)
    assert funnel["variants"][1]["probability_best"] > 0.85
    assert [v["value"] for v in count["variants"]] == [pytest.approx(0.3), pytest.approx(0.7)]
    assert [v["value"] for v in mean["variants"]] == [pytest.approx(3.0), pytest.approx(12.5)]
    assert results["sample_ratio"]["mismatch"] is False

    page = client_for(tenant_a, owner_a).get(f"/experiments/{experiment.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-variant="control"' in html and 'data-chart="experiment-chart"' in html
    funnel_table = html.split('data-results="funnel"')[1].split("</table>")[0]
    assert '<td class="num" data-exposed>10</td>' in funnel_table
    assert (
        '<td class="num" data-converted>3</td>' in funnel_table
        and '<td class="num" data-converted>6</td>' in funnel_table
    )
    assert "30.0 %" in funnel_table and "60.0 %" in funnel_table and "+100.0 %" in funnel_table
    assert "1 person was served more than one variant and is left out" in html
    assert 'id="srm-warning"' not in html


def test_a_goal_filtered_by_its_properties_counts_only_the_matching_goal_events(tenant_a, store):
    flag = ab_flag(tenant_a)
    pro = [{"type": "event", "key": "plan", "op": "eq", "value": "pro"}]
    big = [{"type": "event", "key": "amount", "op": "gt", "value": 15}]
    experiment = make_experiment(
        tenant_a,
        flag,
        primary_metric={**BUY, "filters": pro},
        secondary_metrics=[{"kind": "mean", "event": "purchase", "property": "amount", "filters": big}],
    )
    _started(tenant_a, experiment)
    now = timezone.now()
    exposed, after = iso(now - timedelta(minutes=30)), iso(now - timedelta(minutes=20))
    events = [_exposure(f"c{i}", "control", exposed) for i in range(4)]
    events += [_exposure(f"t{i}", "test", exposed) for i in range(4)]
    for distinct_id, plan, amount in [("c0", "pro", 10), ("c1", "free", 20), ("t0", "pro", 20), ("t1", "pro", 30)]:
        goal = _goal(distinct_id, after, amount)
        goal["properties"]["plan"] = plan
        events.append(goal)
    _capture(tenant_a, events)

    results = writer(tenant_a).get(f"{EXPERIMENTS}{experiment.pk}/results/").json()
    conversion, mean = results["metrics"]
    assert conversion["label"] == "Conversion to “purchase” where plan is pro"
    assert [(v["key"], v["converted"]) for v in conversion["variants"]] == [("control", 1), ("test", 2)]
    assert mean["label"] == "Mean “amount” of “purchase” where amount is greater than 15 per person"
    assert [v["value"] for v in mean["variants"]] == [pytest.approx(20 / 4), pytest.approx(50 / 4)]


def test_an_organisation_flags_experiment_counts_organisations_by_the_events_groups(tenant_a, owner_a, store):
    by_org = {"aggregation_group_type_index": 0, "groups": [{"properties": [], "rollout_percentage": 100}]}
    flag = make_flag(tenant_a, "org-ab", filters={**by_org, "multivariate": VARIANTS})
    experiment = make_experiment(tenant_a, flag)
    _started(tenant_a, experiment)
    now = timezone.now()
    exposed, after = iso(now - timedelta(minutes=30)), iso(now - timedelta(minutes=20))

    def of(event, organisation):
        event["properties"]["$groups"] = {"organisation": organisation}
        return event

    events = [
        of(_exposure("a1", "control", exposed, flag="org-ab"), "acme"),
        of(_exposure("a2", "control", after, flag="org-ab"), "acme"),  # two people, one organisation
        of(_exposure("b1", "test", exposed, flag="org-ab"), "beta"),
        of(_exposure("g1", "test", exposed, flag="org-ab"), "gamma"),
        _exposure("lonely", "test", exposed, flag="org-ab"),  # no organisation: not counted
        of(_goal("a2", after), "acme"),  # any member's goal converts the organisation
        of(_goal("b1", after), "beta"),
        _goal("g1", after),  # sent without its organisation: not gamma's
    ]
    _capture(tenant_a, events)

    results = writer(tenant_a).get(f"{EXPERIMENTS}{experiment.pk}/results/").json()
    assert results["unit"] == "organisation" and results["exposures"] == {"control": 1, "test": 2}
    funnel = results["metrics"][0]
    assert [(v["key"], v["exposed"], v["converted"]) for v in funnel["variants"]] == [("control", 1, 1), ("test", 2, 1)]
    html = client_for(tenant_a, owner_a).get(f"/experiments/{experiment.pk}/").content.decode()
    assert "3 organisations exposed" in html and "organisations per variant" in html


def test_a_split_far_from_the_weights_shows_the_sample_ratio_warning(tenant_a, owner_a):
    flag = ab_flag(tenant_a)
    experiment = make_experiment(tenant_a, flag)
    _started(tenant_a, experiment)
    at = iso(timezone.now() - timedelta(minutes=10))
    events = [_exposure(f"c{i}", "control", at) for i in range(45)] + [
        _exposure(f"t{i}", "test", at) for i in range(15)
    ]
    _capture(tenant_a, events)
    html = client_for(tenant_a, owner_a).get(f"/experiments/{experiment.pk}/").content.decode()
    assert 'id="srm-warning"' in html and "Sample ratio mismatch" in html
    results = writer(tenant_a).get(f"{EXPERIMENTS}{experiment.pk}/results/").json()
    assert results["sample_ratio"]["statistic"] == pytest.approx(15.0)
    assert results["sample_ratio"]["p_value"] == pytest.approx(stats.chi_square_sf(15.0, 1))


def test_results_before_the_start_say_so(tenant_a):
    experiment = make_experiment(tenant_a, ab_flag(tenant_a))
    assert writer(tenant_a).get(f"{EXPERIMENTS}{experiment.pk}/results/").json() == {
        "started": False,
        "target_per_variant": 14745,
    }


# --- Pages -----------------------------------------------------------------------------------------


def page_form(flag, **extra):
    data = {
        "name": "Checkout page test",
        "description": "",
        "flag": str(flag.pk),
        "kind": "funnel",
        "event": "purchase",
        "property": "",
        "secondary": "count $pageview\nmean purchase amount",
        "baseline_rate": "10",
        "mde": "10",
        "alpha": "0.05",
        "power": "0.8",
    }
    data.update(extra)
    return data


def test_members_create_an_experiment_on_the_page_and_see_it_in_the_list(tenant_a, owner_a):
    flag = ab_flag(tenant_a)
    client = client_for(tenant_a, owner_a)
    assert 'name="secondary"' in client.get("/experiments/new/").content.decode()
    response = client.post("/experiments/new/", page_form(flag, where_key="plan", where_op="eq", where_value="pro"))
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(tenant_a.schema_name):
        experiment = Experiment.objects.get(name="Checkout page test")
    assert experiment.primary_metric["filters"] == [{"type": "event", "key": "plan", "op": "eq", "value": "pro"}]
    assert experiment.secondary_metrics == [
        {"kind": "count", "event": "$pageview"},
        {"kind": "mean", "event": "purchase", "property": "amount"},
    ]
    assert experiment.baseline_rate == pytest.approx(0.1) and experiment.target_per_variant == 14745
    listing = client.get("/experiments/").content.decode()
    assert "Checkout page test" in listing and "checkout-ab" in listing and "14,745" in listing
    csv = b"".join(client.get("/experiments/?_export=csv").streaming_content).decode("utf-8-sig")
    assert "Checkout page test" in csv and "Conversion to “purchase” where plan is pro" in csv
    detail = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert 'name="where_key" value="plan"' in detail and 'name="where_value" value="pro"' in detail
    assert "Not started" in detail and f'action="/experiments/{experiment.pk}/start/"' in detail
    assert "target 14,745 persons per variant" in detail and "about 14,745 persons per variant" in detail


def test_saving_on_the_page_keeps_what_the_api_set_and_the_page_does_not_show(tenant_a, owner_a):
    flag = ab_flag(tenant_a)
    pro = {"type": "event", "key": "plan", "op": "eq", "value": "pro"}
    big = {"type": "event", "key": "amount", "op": "gt", "value": 15}
    experiment = make_experiment(
        tenant_a,
        flag,
        primary_metric={**BUY, "name": "Buys by pros", "filters": [pro, big]},
        secondary_metrics=[{"kind": "mean", "event": "purchase", "property": "amount", "filters": [big]}],
    )
    form = page_form(flag, name="Renamed", secondary="mean purchase amount\ncount $pageview")
    form.update(where_key="plan", where_op="eq", where_value="team")  # the one condition shown, changed
    response = client_for(tenant_a, owner_a).post(f"/experiments/{experiment.pk}/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(tenant_a.schema_name):
        experiment.refresh_from_db()
    assert experiment.name == "Renamed"
    assert experiment.primary_metric == {**BUY, "name": "Buys by pros", "filters": [{**pro, "value": "team"}, big]}
    assert experiment.secondary_metrics == [
        {"kind": "mean", "event": "purchase", "property": "amount", "filters": [big]},
        {"kind": "count", "event": "$pageview"},
    ]


@pytest.mark.parametrize(
    "extra, field, message",
    [
        ({"secondary": "median x"}, "secondary", "Line 1"),
        ({"kind": "mean", "property": ""}, "property", "numeric event property"),
        ({"baseline_rate": "150"}, "baseline_rate", "between 0 and 1"),
        ({"where_key": "amount", "where_op": "gt", "where_value": "lots"}, "where_value", "Give a number"),
    ],
)
def test_the_page_re_renders_the_form_with_the_reason(tenant_a, owner_a, extra, field, message):
    flag = ab_flag(tenant_a)
    response = client_for(tenant_a, owner_a).post("/experiments/new/", page_form(flag, **extra))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and f'id="id_{field}"' in html and 'aria-invalid="true"' in html


def test_a_boolean_flag_is_not_offered_and_is_refused_on_the_page(tenant_a, owner_a):
    plain = make_flag(tenant_a, "plain-flag")
    ab_flag(tenant_a)
    client = client_for(tenant_a, owner_a)
    form = client.get("/experiments/new/").content.decode()
    assert "checkout-ab" in form and "plain-flag" not in form
    refused = client.post("/experiments/new/", page_form(plain))
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()


def test_start_stop_and_ship_on_the_page_and_viewers_only_look(tenant_a, owner_a):
    flag = ab_flag(tenant_a)
    experiment = make_experiment(tenant_a, flag)
    with schema_context(tenant_a.schema_name):
        viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    looking = client_for(tenant_a, viewer)
    assert looking.get(f"/experiments/{experiment.pk}/").status_code == 200
    assert looking.post(f"/experiments/{experiment.pk}/start/").status_code == 403
    assert looking.post(f"/experiments/{experiment.pk}/", page_form(flag, name="Hijack")).status_code == 403
    assert looking.get("/experiments/new/").status_code == 403
    client = client_for(tenant_a, owner_a)
    assert client.post(f"/experiments/{experiment.pk}/start/").status_code == 302
    page = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert "Ship a variant" in page and "data-confirm=" in page
    client.post(f"/experiments/{experiment.pk}/ship/", {"variant": "control"})
    with schema_context(tenant_a.schema_name):
        experiment.refresh_from_db()
        flag.refresh_from_db()
    assert experiment.status == "stopped" and experiment.shipped_variant == "control"
    assert flag.filters["multivariate"]["variants"][0] == {"key": "control", "rollout_percentage": 100}
    assert "Shipped control" in client.get("/experiments/").content.decode()
    assert client.post(f"/experiments/{experiment.pk}/delete/").status_code == 302
    with schema_context(tenant_a.schema_name):
        assert not Experiment.objects.filter(pk=experiment.pk).exists() and Flag.objects.filter(pk=flag.pk).exists()


def test_another_tenants_experiments_are_not_found_on_the_pages(tenant_a, tenant_b, owner_b):
    with schema_context(tenant_b.schema_name):
        b_ids = set(Experiment.objects.values_list("pk", flat=True))
    flag = ab_flag(tenant_a)
    experiment = make_experiment(tenant_a, flag)
    while experiment.pk in b_ids:  # an id tenant B does not have
        with schema_context(tenant_a.schema_name):
            Experiment.objects.filter(pk=experiment.pk).update(status="stopped")
        experiment = make_experiment(tenant_a, flag)
    client = client_for(tenant_b, owner_b)
    assert client.get(f"/experiments/{experiment.pk}/").status_code == 404
    assert client.post(f"/experiments/{experiment.pk}/ship/", {"variant": "test"}).status_code == 404
    assert client.post(f"/experiments/{experiment.pk}/start/").status_code == 404
    assert client.post(f"/experiments/{experiment.pk}/delete/").status_code == 404
    assert "Checkout test" not in client.get("/experiments/").content.decode()
    with schema_context(tenant_a.schema_name):
        assert Experiment.objects.filter(pk=experiment.pk, status="draft").exists()
