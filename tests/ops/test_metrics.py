"""/metrics: requests by route, method, status and plan (never by tenant), the database, the cache,
Celery tasks, websockets, webhook deliveries and the outbox lag; open only to allowed networks
or a bearer token."""

import asyncio
import datetime

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from prometheus_client.parser import text_string_to_metric_families

from apps.events.models import Event
from apps.tenancy.models import Tenant
from tests.conftest import cache_redis_down, client_for
from tests.events.fixtures import eager_tasks, in_tenant_a, receiver, run_now  # noqa: F401, F811
from tests.websockets import logged_in, opened

pytestmark = pytest.mark.django_db


def scrape(**headers) -> str:
    response = Client(HTTP_HOST="10.0.0.7:8000").get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def samples(text: str, name: str) -> dict[tuple, float]:
    """{sorted label items: value} of the samples called `name`."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels) -> float:
    return samples(text, name).get(tuple(sorted(labels.items())), 0.0)


HOME = {"route": "home", "method": "GET", "status": "200"}


def test_two_tenants_requests_share_one_series_by_plan(tenant_a, tenant_b, owner_a, owner_b):
    before = scrape()
    assert client_for(tenant_a, owner_a).get("/").status_code == 200
    assert client_for(tenant_b, owner_b).get("/").status_code == 200
    after = scrape()
    assert (
        value(after, "hub_http_requests_total", **HOME, plan="free")
        == value(before, "hub_http_requests_total", **HOME, plan="free") + 2
    )
    assert value(after, "hub_http_request_duration_seconds_count", route="home", method="GET", plan="free") >= 2
    # No label carries a tenant's slug, host or schema.
    for name in ("hub_http_requests_total", "hub_http_request_duration_seconds_bucket"):
        for labels in samples(after, name):
            assert {key for key, _ in labels} <= {"route", "method", "status", "plan", "le"}
            assert not {"alpha", "beta", "t_alpha", "t_beta"} & {v for _, v in labels}


def test_another_plan_is_another_series(tenant_a, owner_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(plan="team")
    from apps.tenancy.routing import routes

    routes.clear()
    client_for(tenant_a, owner_a).get("/")
    assert value(scrape(), "hub_http_requests_total", **HOME, plan="team") >= 1


def test_unknown_hosts_and_unmatched_paths_are_bounded(tenant_a, owner_a):
    Client(HTTP_HOST="nowhere.example.org").get("/x/1/")
    Client(HTTP_HOST="nowhere.example.org").generic("MADEUP123", "/")
    client_for(tenant_a, owner_a).get("/no-such-page/12345/")
    text = scrape()
    assert value(text, "hub_http_requests_total", route="unmatched", method="GET", status="404", plan="none") >= 1
    assert value(text, "hub_http_requests_total", route="unmatched", method="GET", status="404", plan="free") >= 1
    series = "\n".join(line.rsplit(" ", 1)[0] for line in text.splitlines() if not line.startswith("#"))
    assert "12345" not in series and "MADEUP123" not in series  # in no name or label (a value may hold the digits)
    assert value(text, "hub_http_requests_total", route="unmatched", method="other", status="404", plan="none") >= 1


def test_database_and_cache_are_counted(tenant_a, owner_a):
    before = scrape()
    client_for(tenant_a, owner_a).get("/members/")
    after = scrape()
    assert value(after, "hub_db_queries_total", outcome="ok") > value(before, "hub_db_queries_total", outcome="ok")
    assert samples(after, "hub_db_query_duration_seconds_count")
    gets = sum(
        v for labels, v in samples(after, "hub_cache_operations_total").items() if ("operation", "get") in labels
    )
    assert gets > 0
    assert value(after, "hub_cache_operation_duration_seconds_count", operation="get") > 0


def test_outbox_lag_is_the_oldest_waiting_event(tenant_a):
    waiting = value(scrape(), "hub_outbox_waiting_events")  # what other tests' live processes left, if any
    with schema_context(tenant_a.schema_name):
        Event.objects.create(type="test.waiting", occurred_at=timezone.now() - datetime.timedelta(seconds=120))
    text = scrape()
    assert value(text, "hub_outbox_oldest_age_seconds") >= 120
    assert value(text, "hub_outbox_waiting_events") == waiting + 1


def test_a_schema_without_an_outbox_is_skipped_and_a_database_error_spares_the_rest(tenant_a, monkeypatch):
    from django.db import DatabaseError, connection

    from apps.ops import scrape as scraping

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE t_alpha.events_event RENAME TO events_event_away")
    try:
        assert samples(scrape(), "hub_outbox_oldest_age_seconds")  # the schema is skipped; no error drops the gauge
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE t_alpha.events_event_away RENAME TO events_event")

    def broken():
        raise DatabaseError("the database went away")

    monkeypatch.setattr(scraping, "outbox_lag", broken)
    text = scrape()
    assert "hub_outbox_oldest_age_seconds" not in text and "hub_http_requests_total" in text


def test_celery_tasks_are_counted_by_name_and_outcome(settings):
    from apps.core.taskref import TaskRef

    heartbeat = TaskRef("apps.ops.tasks.beat_heartbeat").task()
    assert heartbeat.apply().successful()  # run here, as a worker runs it: the same signals
    cache_redis_down(settings)
    assert heartbeat.apply().failed()
    text = scrape()
    task = "apps.ops.tasks.beat_heartbeat"
    assert value(text, "hub_celery_tasks_finished_total", task=task, outcome="succeeded") >= 1
    assert value(text, "hub_celery_tasks_finished_total", task=task, outcome="failed") >= 1
    assert value(text, "hub_celery_task_duration_seconds_count", task=task) >= 2
    assert value(text, "hub_celery_tasks_running", task=task) == 0


def test_open_websockets_are_counted(tenant_a, owner_a):
    from prometheus_client import REGISTRY

    cookie = logged_in(owner_a, "alpha.localhost")[1]
    start = value(scrape(), "hub_websocket_connections")

    async def open_one():
        ws = await opened("alpha.localhost", cookie)
        during = REGISTRY.get_sample_value("hub_websocket_connections")
        await ws.disconnect()
        await asyncio.sleep(0.1)
        return during

    assert asyncio.run(open_one()) == start + 1
    assert value(scrape(), "hub_websocket_connections") == start


def test_webhook_deliveries_are_counted_by_outcome(in_tenant_a, receiver, run_now):  # noqa: F811
    from apps.core.events import publish
    from apps.notifications import webhooks

    webhooks.endpoint_create(url=receiver.url(), event_types=["organisation.settings_changed"])
    before = scrape()
    run_now(lambda: publish("organisation.settings_changed", {"changes": {}}, tenant=in_tenant_a))
    receiver.wait_for(1)
    receiver.answer(410)
    run_now(lambda: publish("organisation.settings_changed", {"changes": {}}, tenant=in_tenant_a))
    receiver.wait_for(2)
    after = scrape()
    for outcome in ("succeeded", "failed"):
        name = "hub_webhook_deliveries_total"
        assert value(after, name, outcome=outcome) == value(before, name, outcome=outcome) + 1


# --- who may scrape ------------------------------------------------------------------------------


def test_metrics_are_hidden_from_the_public(settings):
    public = Client(HTTP_HOST="localhost")
    assert public.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    # Through a proxy the address is the proxy's (or one the client wrote): a token is needed.
    assert public.get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 404
    assert public.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer guess").status_code == 404


def test_a_bearer_token_opens_metrics_from_anywhere(settings):
    settings.HUB_METRICS_TOKEN = "s3cret-token"
    client = Client(HTTP_HOST="hub.example.com")
    assert (
        client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    )
    assert (
        client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-tokeX").status_code == 404
    )


def test_metrics_off_means_no_endpoint(settings, rf):
    from apps.ops.middleware import OpsMiddleware

    settings.HUB_METRICS_ENABLED = False
    middleware = OpsMiddleware(lambda request: None)
    assert middleware(rf.get("/metrics", REMOTE_ADDR="127.0.0.1")).status_code == 404


def test_the_grafana_dashboard_uses_only_metrics_the_hub_serves():
    import json
    import re

    from tests.processes import ROOT

    dashboard = json.loads((ROOT / "deploy" / "grafana" / "hub.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bhub_[a-z_]+", target["expr"])
    }
    served = {family.name for family in text_string_to_metric_families(scrape())}
    suffixes = ("_total", "_bucket", "_count", "_sum")
    unknown = {n for n in used if n not in served and not any(n.removesuffix(s) in served for s in suffixes)}
    assert not unknown
    assert len(used) >= 15
