"""A real web server (uvicorn) and a real prefork Celery worker sharing PROMETHEUS_MULTIPROC_DIR,
logging JSON: /metrics adds up every process's samples, and a task's log lines carry the id of
the request that sent it."""

import json
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest

from apps.ops import logs
from config.celery import app
from tests.conftest import subprocess_env
from tests.processes import CELERY, ROOT, UVICORN, answers, free_port, stop

pytestmark = [pytest.mark.django_db, pytest.mark.e2e]
TASK = "apps.ops.tasks.beat_heartbeat"


@contextmanager
def started(command, env, ready, log_path):
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(c) for c in command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not ready():
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        yield process
    finally:
        stop(process)


def json_lines(path) -> list[dict]:
    lines = []
    for line in path.read_text().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pass
    return lines


def get(port, path, **headers):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": f"localhost:{port}", **headers})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers, response.read().decode()


def test_web_and_prefork_worker_metrics_and_request_ids(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = subprocess_env(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), HUB_LOG_FORMAT="json")
    port = free_port()
    web = [UVICORN, "config.asgi:application", "--host", "127.0.0.1", "--port", port, "--lifespan", "off"]
    web += ["--workers", "2"]
    worker = [CELERY, "-A", "config", "worker", "-P", "prefork", "-c", "2", "-l", "info"]
    worker += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    app.control.purge()
    with (
        started(web, env, lambda: answers(port), tmp_path / "web.log"),
        started(worker, env, lambda: bool(app.control.ping(timeout=0.5)), tmp_path / "worker.log"),
    ):
        headers, _ = get(port, "/", **{"X-Request-ID": "req-from-the-proxy"})
        assert headers["X-Request-ID"] == "req-from-the-proxy"
        generated, _ = get(port, "/")
        assert len(generated["X-Request-ID"]) == 32

        # A task sent while a request is handled carries its id to the worker.
        logs.bind(request_id="req-that-sent-a-task")
        try:
            app.send_task(TASK).get(timeout=20)
        finally:
            logs.unbind()

        # (The result is stored a moment before the worker's task_postrun counts the task.)
        finished = f'hub_celery_tasks_finished_total{{outcome="succeeded",task="{TASK}"}} 1.0'
        deadline = time.monotonic() + 10
        while finished not in (text := get(port, "/metrics")[1]) and time.monotonic() < deadline:
            time.sleep(0.2)
    series = 'hub_http_requests_total{method="GET",plan="public",route="landing",status="200"} '
    [count] = [float(x.removeprefix(series)) for x in text.splitlines() if x.startswith(series)]
    assert count >= 2  # both web processes' requests (and the start-up probe's)
    # The worker's prefork child counted the task; the web process's scrape adds it in.
    assert finished in text
    assert f'hub_celery_task_duration_seconds_count{{task="{TASK}"}} 1.0' in text

    web_lines = json_lines(tmp_path / "web.log")
    [line] = [x for x in web_lines if x.get("request_id") == "req-from-the-proxy"]
    assert line["event"] == "request" and line["status"] == 200 and line["tenant"] == "public"
    assert line["level"] == "info" and line["timestamp"].endswith("Z")
    task_lines = [x for x in json_lines(tmp_path / "worker.log") if x.get("request_id") == "req-that-sent-a-task"]
    assert task_lines, (tmp_path / "worker.log").read_text()[-3000:]
    assert all(x["task"] == TASK and x["tenant"] == "public" for x in task_lines)
    assert any("succeeded" in x["event"] for x in task_lines)


def test_a_worker_in_a_container_of_its_own_serves_its_metrics(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    env = subprocess_env(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), HUB_METRICS_WORKER_PORT=str(port))
    worker = [CELERY, "-A", "config", "worker", "-P", "prefork", "-c", "2", "-l", "info"]
    worker += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    app.control.purge()
    with started(worker, env, lambda: bool(app.control.ping(timeout=0.5)), tmp_path / "worker.log"):
        app.send_task(TASK).get(timeout=20)
        finished = f'hub_celery_tasks_finished_total{{outcome="succeeded",task="{TASK}"}} 1.0'
        deadline = time.monotonic() + 10
        while finished not in (text := get(port, "/metrics")[1]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert finished in text
        assert "hub_outbox_oldest_age_seconds" not in text  # the web servers report the outbox
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(port, "/metrics", **{"X-Forwarded-For": "10.0.0.1"})
        assert refused.value.code == 404
