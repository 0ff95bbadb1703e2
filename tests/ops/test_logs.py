"""Structured logs: every line written while a request is handled carries its request id (the
caller's X-Request-ID, or a new one, echoed in the response), the tenant's schema, the user's id
and the trace id of a W3C traceparent header; JSON in production, readable lines in development."""

import io
import json
import logging

import pytest

from apps.ops import logs
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def lines():
    """The JSON lines the hub's loggers write during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    logger = logging.getLogger("apps")
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


def test_a_request_line_carries_request_id_tenant_user_and_trace(tenant_a, owner_a, lines):
    response = client_for(tenant_a, owner_a).get(
        "/members/", HTTP_X_REQUEST_ID="abc-123", HTTP_TRACEPARENT=f"00-{TRACE}-00f067aa0ba902b7-01"
    )
    assert response["X-Request-ID"] == "abc-123"
    [line] = [x for x in lines() if x["event"] == "request"]
    assert line["request_id"] == "abc-123"
    assert line["trace_id"] == TRACE
    assert line["tenant"] == tenant_a.schema_name
    assert line["user_id"] == owner_a.pk
    assert line["status"] == 200 and line["method"] == "GET" and line["path"] == "/members/"
    assert line["level"] == "info" and line["logger"] == "apps.ops.request"


def test_a_missing_or_unusable_request_id_is_replaced(tenant_a, lines):
    client = client_for(tenant_a)
    fresh = client.get("/accounts/login/")["X-Request-ID"]
    assert len(fresh) == 32
    odd = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert odd != "bad id\nwith newline" and len(odd) == 32
    requests = [x for x in lines() if x["event"] == "request"]
    assert [x["request_id"] for x in requests] == [fresh, odd]
    assert all("user_id" not in x for x in requests)  # nobody logged in


def test_another_tenants_requests_carry_their_own_tenant(tenant_a, tenant_b, owner_b, lines):
    client_for(tenant_b, owner_b).get("/")
    [line] = [x for x in lines() if x["event"] == "request"]
    assert line["tenant"] == tenant_b.schema_name and line["user_id"] == owner_b.pk


def test_lines_outside_a_request_carry_no_request_fields(lines):
    logging.getLogger("apps.ops").warning("between requests")
    [line] = lines()
    assert line["event"] == "between requests"
    assert not {"request_id", "tenant", "user_id"} & set(line)


def test_a_task_sent_during_a_request_carries_its_id_in_its_headers(tenant_a, owner_a, monkeypatch):
    from apps.ops import taskhooks

    headers = {}
    logs.bind(request_id="req-9", trace_id=TRACE)
    try:
        taskhooks.before_publish(sender="apps.ops.tasks.beat_heartbeat", headers=headers)
    finally:
        logs.unbind()
    assert headers["hub_request_id"] == "req-9" and headers["hub_trace_id"] == TRACE
    assert headers["hub_sent_at"] > 0


def test_a_task_sent_for_a_logged_in_member_carries_the_members_id(tenant_a, owner_a, rf):
    from apps.ops import taskhooks

    request = rf.get("/")
    request.tenant, request.user = tenant_a, owner_a
    token = logs.current_request.set(request)
    headers = {}
    try:
        taskhooks.before_publish(sender="apps.ops.tasks.beat_heartbeat", headers=headers)
    finally:
        logs.current_request.reset(token)
    assert headers["hub_user_id"] == owner_a.pk


def test_a_task_run_in_place_keeps_its_callers_fields():
    import structlog

    from apps.core.taskref import TaskRef

    logs.bind(request_id="req-eager")
    try:
        assert TaskRef("apps.ops.tasks.beat_heartbeat").task().apply().successful()
        assert structlog.contextvars.get_contextvars()["request_id"] == "req-eager"
    finally:
        logs.unbind()


def test_settings_choose_the_format():
    import subprocess
    import sys

    from django.conf import settings

    from tests.conftest import subprocess_env
    from tests.processes import ROOT

    assert settings.LOGGING["formatters"]["hub"]["fmt"] == "console"  # development and tests
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 50,
        HUB_FIELD_ENCRYPTION_KEYS="ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc=",
    )
    env.pop("HUB_LOG_FORMAT", None)
    script = "import django; django.setup(); import logging; logging.getLogger('apps.x').warning('in production')"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    line = json.loads(out.stderr.strip().splitlines()[-1])
    assert line["event"] == "in production" and line["level"] == "warning" and line["logger"] == "apps.x"
    console = logs.formatter("console")
    record = logging.LogRecord("apps.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    assert "hello there" in console.format(record) and not console.format(record).startswith("{")
