"""Bad input: the good events of a batch are kept, the others named with their index and reason;
a request that cannot be read at all is a problem+json naming the field."""

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.analytics import conf

from .conftest import host_client, post_json, stored, write

pytestmark = pytest.mark.django_db
CAPTURE = "/api/v1/analytics/capture"


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_a_malformed_batch_keeps_the_good_events_and_names_the_others(tenant_a, key_a):
    now = datetime.now(UTC)
    batch = [
        {"event": "good", "distinct_id": "a"},
        {"event": 42, "distinct_id": "b"},
        {"event": "no id"},
        {"event": "late", "distinct_id": "c", "timestamp": (now + timedelta(days=2)).isoformat()},
        {"event": "ancient", "distinct_id": "d", "timestamp": (now - timedelta(days=400)).isoformat()},
        {"event": "bad time", "distinct_id": "e", "timestamp": "yesterday"},
        {"event": "props", "distinct_id": "f", "properties": ["not", "an", "object"]},
        {"event": "bad uuid", "distinct_id": "g", "uuid": "nope"},
        "not an object",
        {"event": "also good", "distinct_id": 7},
    ]
    response = post_json(host_client(tenant_a), CAPTURE, {"api_key": key_a[1], "batch": batch})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["field"], r["code"]) for r in body["refused"]] == [
        (1, "event", "invalid_type"),
        (2, "distinct_id", "required"),
        (3, "timestamp", "future"),
        (4, "timestamp", "too_old"),
        (5, "timestamp", "invalid"),
        (6, "properties", "invalid_type"),
        (7, "uuid", "invalid"),
        (8, "", "invalid_type"),
    ]
    assert "more than a day ahead" in body["refused"][2]["message"]
    write(tenant_a)
    assert sorted((r.event, r.distinct_id) for r in stored(tenant_a)) == [("also good", "7"), ("good", "a")]


def test_one_bad_event_alone_is_a_problem_naming_its_field(tenant_a, key_a):
    body = problem(
        post_json(host_client(tenant_a), CAPTURE, {"api_key": key_a[1], "event": "x", "distinct_id": ["a"]}), 400
    )
    assert body["errors"][0]["field"] == "distinct_id"
    assert body["errors"][0]["message"] == "distinct_id must be a string."


def test_a_batch_with_only_bad_events_is_a_problem_naming_each(tenant_a, key_a):
    batch = [{"event": "x"}, {"distinct_id": "y"}]
    body = problem(post_json(host_client(tenant_a), "/batch/", {"api_key": key_a[1], "batch": batch}), 400)
    assert [(e["field"], e["index"]) for e in body["errors"]] == [("batch.0.distinct_id", 0), ("batch.1.event", 1)]


def test_the_age_limit_is_configurable(tenant_a, key_a, settings):
    settings.HUB_ANALYTICS_MAX_AGE_DAYS = 7
    old = (datetime.now(UTC) - timedelta(days=8)).isoformat()
    body = {"api_key": key_a[1], "event": "x", "distinct_id": "d", "timestamp": old}
    assert problem(post_json(host_client(tenant_a), CAPTURE, body), 400)["errors"][0]["code"] == "too_old"


def test_a_skew_corrected_time_more_than_a_day_ahead_is_refused(tenant_a, key_a):
    # The client's clock says the event is now, but it claims to have sent it two days ago.
    now = datetime.now(UTC)
    body = {
        "api_key": key_a[1],
        "sent_at": (now - timedelta(days=2)).isoformat(),
        "batch": [{"event": "x", "distinct_id": "d", "timestamp": now.isoformat()}],
    }
    assert problem(post_json(host_client(tenant_a), "/batch/", body), 400)["errors"][0]["code"] == "future"


def test_oversize_body_is_413(tenant_a, key_a, settings):
    settings.HUB_ANALYTICS_MAX_BODY_BYTES = 1000
    body = {"api_key": key_a[1], "event": "x", "distinct_id": "d", "properties": {"pad": "x" * 2000}}
    assert problem(post_json(host_client(tenant_a), CAPTURE, body), 413)["code"] == "too_large"


def test_a_gzip_bomb_is_413(tenant_a, key_a, settings):
    settings.HUB_ANALYTICS_MAX_BODY_BYTES = 10_000
    padded = json.dumps({"api_key": key_a[1], "event": "x", "distinct_id": "d", "p": " " * 100_000}).encode()
    response = host_client(tenant_a).post(
        CAPTURE, gzip.compress(padded), content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    problem(response, 413)


def test_more_than_the_batch_limit_is_413_naming_batch(tenant_a, key_a):
    batch = [{"event": "x", "distinct_id": "d"}] * (conf.get("HUB_ANALYTICS_MAX_BATCH") + 1)
    body = problem(post_json(host_client(tenant_a), CAPTURE, {"api_key": key_a[1], "batch": batch}), 413)
    assert body["errors"][0]["field"] == "batch"


@pytest.mark.parametrize(
    "raw, field",
    [
        (b"{not json", "body"),
        (b"NaN", "body"),
        (b'"a string"', "body"),
        (b'{"batch": {"event": "x"}}', "batch"),
        (b'{"batch": []}', "batch"),
    ],
)
def test_unreadable_bodies_are_400_naming_the_field(tenant_a, key_a, raw, field):
    response = host_client(tenant_a).post(CAPTURE, raw, content_type="application/json")
    assert problem(response, 400)["errors"][0]["field"] == field


def test_bad_sent_at_is_400(tenant_a, key_a):
    body = {"api_key": key_a[1], "sent_at": "soon", "batch": [{"event": "x", "distinct_id": "d"}]}
    assert problem(post_json(host_client(tenant_a), CAPTURE, body), 400)["errors"][0]["field"] == "sent_at"


def test_text_that_postgresql_cannot_store_is_refused(tenant_a, key_a):
    raw = b'{"api_key": "%s", "batch": [{"event": "x\\u0000", "distinct_id": "d"},' % key_a[1].encode()
    raw += b' {"event": "y", "distinct_id": "d", "properties": {"a": "\\ud800"}}, {"event": "ok", "distinct_id": "d"},'
    raw += b' {"event": "z", "distinct_id": "d", "properties": {"big": 123456789012345678901234567890}}]}'
    body = host_client(tenant_a).post(CAPTURE, raw, content_type="application/json").json()
    assert [(r["index"], r["field"]) for r in body["refused"]] == [(0, "event"), (1, "properties"), (3, "properties")]
    assert write(tenant_a) == 1


@pytest.mark.parametrize("api_key", [None, "phc_deadbeef_nope", "hub_12345678_not-a-project-key", 12])
def test_unknown_or_missing_keys_are_401(tenant_a, key_a, api_key):
    body = {"event": "x", "distinct_id": "d"}
    if api_key is not None:
        body["api_key"] = api_key
    assert problem(post_json(host_client(tenant_a), CAPTURE, body), 401)["errors"][0]["field"] == "api_key"
    assert write(tenant_a) == 0


def test_a_revoked_key_is_401(tenant_a, key_a):
    from django_tenants.utils import schema_context

    from apps.analytics import services

    with schema_context(tenant_a.schema_name):
        services.project_key_revoke(tenant=tenant_a, actor=None, key=key_a[0])
    problem(post_json(host_client(tenant_a), CAPTURE, {"api_key": key_a[1], "event": "x", "distinct_id": "d"}), 401)


def test_a_full_queue_is_503_and_takes_nothing(tenant_a, key_a, settings):
    settings.HUB_ANALYTICS_MAX_QUEUED = 1
    body = {"api_key": key_a[1], "event": "x", "distinct_id": "d"}
    client = host_client(tenant_a)
    assert post_json(client, CAPTURE, body).status_code == 200
    response = post_json(client, CAPTURE, body)
    assert problem(response, 503)["code"] == "unavailable" and response["Retry-After"] == "30"
    assert write(tenant_a) == 1


def test_redis_down_is_503(tenant_a, key_a, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    from apps.analytics import queue

    def down(schema):
        raise RedisDown("no answer")

    monkeypatch.setattr(queue, "length", down)
    body = {"api_key": key_a[1], "event": "x", "distinct_id": "d"}
    assert problem(post_json(host_client(tenant_a), CAPTURE, body), 503)["detail"].startswith("Events cannot be queued")
