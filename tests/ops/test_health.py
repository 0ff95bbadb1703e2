"""Liveness and readiness: real PostgreSQL, Redis, channel layer and a real Celery worker; a
service made unreachable (a port nobody listens on) fails its check by name with a 503."""

import pytest
from django.test import Client

from apps.ops import health
from tests.conftest import cache_redis_down, client_for, subprocess_env
from tests.processes import celery_worker

pytestmark = pytest.mark.django_db
SERVICES = ["check=database", "check=cache", "check=channels"]


def ready(client=None, query="", **headers):
    return (client or Client(HTTP_HOST="localhost")).get(f"/healthz/ready?{query}", **headers)


def test_liveness_answers_for_any_host_without_opening_other_paths():
    client = Client(HTTP_HOST="10.1.2.3:8000")  # an orchestrator probing the pod by its address
    live = client.get("/healthz/live")
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert client.get("/").status_code == 404  # every other path: still the unknown host's page
    assert client.get("/admin/").status_code == 404


def test_readiness_answers_for_any_host_with_each_check_and_its_time():
    response = Client(HTTP_HOST="hub-web-5d9f-abcde").get("/healthz/ready?" + "&".join(SERVICES))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert list(body["checks"]) == ["database", "cache", "channels"]
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["duration_ms"] >= 0


def test_cache_unreachable_is_a_503_naming_the_check(settings):
    cache_redis_down(settings)
    response = ready(query="&".join(SERVICES))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["cache"]["status"] == "failing"
    assert "Connection refused" in body["checks"]["cache"]["error"] or "connecting" in body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["status"] == "ok"


def test_a_public_caller_sees_which_check_fails_but_not_its_message(settings):
    cache_redis_down(settings)
    response = ready(query="check=cache", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {"status": "failing", "duration_ms": pytest.approx(0, abs=5000)}


def test_without_a_worker_the_workers_check_fails(settings):
    settings.HUB_HEALTH_TIMEOUT_SECONDS = 1.0
    response = ready(query="check=workers&format=json")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"]["error"] == "No Celery worker answered a ping."


def test_beat_check_reads_the_heartbeat(settings):
    from django_redis import get_redis_connection

    get_redis_connection("default").delete(health.BEAT_KEY)
    assert ready(query="check=beat").json()["checks"]["beat"]["error"].startswith("Beat has not sent")
    get_redis_connection("default").set(health.BEAT_KEY, "1000")  # long ago
    assert "s old" in ready(query="check=beat").json()["checks"]["beat"]["error"]
    health.beat_heartbeat_record()
    assert ready(query="check=beat").status_code == 200


def test_a_check_that_hangs_fails_in_time(settings, monkeypatch):
    import threading
    import time

    settings.HUB_HEALTH_TIMEOUT_SECONDS = 0.3
    release = threading.Event()
    monkeypatch.setitem(health.CHECKS, "database", lambda: release.wait(5))
    started = time.monotonic()
    try:
        response = ready(query="check=database")
    finally:
        release.set()
    assert time.monotonic() - started < 1.5
    assert response.json()["checks"]["database"]["error"] == "Did not answer in time."
    time.sleep(0.1)  # the released run ends; the next probe checks afresh


def test_probes_while_a_check_hangs_share_its_one_run(settings, monkeypatch):
    import threading
    import time

    settings.HUB_HEALTH_TIMEOUT_SECONDS = 0.2
    release, runs = threading.Event(), []

    def hanging():
        runs.append(1)
        release.wait(5)

    monkeypatch.setitem(health.CHECKS, "beat", hanging)
    try:
        for _ in range(3):
            assert ready(query="check=beat").json()["checks"]["beat"]["error"] == "Did not answer in time."
        assert len(runs) == 1  # one thread waits on the service, not one per probe
    finally:
        release.set()
    time.sleep(0.1)
    monkeypatch.setitem(health.CHECKS, "beat", lambda: None)
    assert ready(query="check=beat").status_code == 200  # the next probe checks afresh


def test_an_unknown_check_is_a_clear_400():
    response = ready(query="check=database&check=kafka")
    assert response.status_code == 400
    assert "Unknown check: kafka" in response.json()["error"]


def test_everything_ready_with_a_real_worker_that_ran_beats_heartbeat():
    from django_redis import get_redis_connection

    from config.celery import app

    get_redis_connection("default").delete(health.BEAT_KEY)
    with celery_worker(subprocess_env()):
        # What beat sends on its schedule (ops-beat-heartbeat), run by the worker.
        app.send_task("apps.ops.tasks.beat_heartbeat").get(timeout=20)
        response = ready()
    assert response.status_code == 200, response.content
    assert set(response.json()["checks"]) == {"database", "cache", "workers", "beat", "channels"}


def test_the_beat_heartbeat_is_a_registered_periodic_task():
    from apps.core.registry import registry

    schedule = registry.beat_schedule()["ops-beat-heartbeat"]
    assert schedule["task"] == "apps.ops.tasks.beat_heartbeat"


# --- the operators' page ---------------------------------------------------------------------


def test_staff_see_the_health_page_in_a_browser(django_user_model, settings):
    cache_redis_down(settings)
    staff = django_user_model.objects.create_user(email="ops@example.com", password="x-long-password", is_staff=True)
    response = client_for(None, staff).get("/healthz/ready?check=database&check=cache", HTTP_ACCEPT="text/html")
    assert response.status_code == 503
    html = response.content.decode()
    assert "Database (PostgreSQL)" in html and "Cache (Redis)" in html
    assert "Failing" in html and "Not ready" in html
    assert response.templates[0].name == "ops/status.html"


def test_the_health_page_is_not_there_for_others(owner_a, tenant_a):
    as_html = {"HTTP_ACCEPT": "text/html"}
    assert client_for(None).get("/healthz/", **as_html).status_code == 404
    assert client_for(None, owner_a).get("/healthz/", **as_html).status_code == 404
    # A tenant's site has no health page at all, even for its owner.
    assert client_for(tenant_a, owner_a).get("/healthz/ready", **as_html).status_code == 404
