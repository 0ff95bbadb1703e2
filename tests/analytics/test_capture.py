"""Capture: one event or a batch, the hub's format and PostHog's, stored by the writer."""

import base64
import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import host_client, post_json, stored, write

pytestmark = pytest.mark.django_db


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def test_one_event_is_queued_then_written_with_its_fields(tenant_a, key_a):
    event_uuid = str(uuid.uuid4())
    when = datetime.now(UTC) - timedelta(minutes=5)
    response = post_json(
        host_client(tenant_a),
        "/api/v1/analytics/capture",
        {
            "api_key": key_a[1],
            "event": "signed_up",
            "distinct_id": "user-1",
            "timestamp": iso(when),
            "properties": {"plan": "team", "seats": 3},
            "uuid": event_uuid,
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"status": 1, "accepted": 1, "refused": []}
    assert stored(tenant_a) == []  # the request only queued it
    assert write(tenant_a) == 1
    [row] = stored(tenant_a)
    assert (row.event, row.distinct_id, str(row.uuid)) == ("signed_up", "user-1", event_uuid)
    assert row.properties == {"plan": "team", "seats": 3}
    assert abs(row.timestamp - when) < timedelta(seconds=1)


def test_a_batch_of_a_thousand_is_written_in_one_go(tenant_a, key_a):
    batch = [{"event": "viewed", "distinct_id": f"u{i % 7}", "properties": {"i": i}} for i in range(1000)]
    response = post_json(host_client(tenant_a), "/api/v1/analytics/capture", {"api_key": key_a[1], "batch": batch})
    assert response.json()["accepted"] == 1000
    assert write(tenant_a) == 1000
    rows = stored(tenant_a)
    assert sorted(row.properties["i"] for row in rows) == list(range(1000))
    assert {row.uuid.version for row in rows} == {7}  # given by the server, time-ordered


def test_the_key_may_come_in_the_authorization_header(tenant_a, key_a):
    body = {"event": "e", "distinct_id": "d"}
    response = post_json(
        host_client(tenant_a), "/api/v1/analytics/capture/", body, HTTP_AUTHORIZATION=f"Bearer {key_a[1]}"
    )
    assert response.status_code == 200, response.content


def test_resending_the_same_uuid_stores_the_event_once(tenant_a, key_a):
    event = {"event": "paid", "distinct_id": "u", "uuid": str(uuid.uuid4()), "timestamp": iso(datetime.now(UTC))}
    client = host_client(tenant_a)
    for delay in (0, 3):  # a re-send: its sent_at differs, so its corrected time does too
        sent_at = iso(datetime.now(UTC) - timedelta(seconds=delay))
        post_json(client, "/batch/", {"api_key": key_a[1], "batch": [event, event], "sent_at": sent_at})
        write(tenant_a)
    assert len(stored(tenant_a, event="paid")) == 1


def test_sent_at_corrects_the_clients_clock(tenant_a, key_a):
    # The client's clock is an hour slow: it says it sent the event at 11:00, the event at 10:59.
    client_now = datetime.now(UTC) - timedelta(hours=1)
    body = {
        "api_key": key_a[1],
        "sent_at": iso(client_now),
        "batch": [{"event": "e", "distinct_id": "d", "timestamp": iso(client_now - timedelta(minutes=1))}],
    }
    post_json(host_client(tenant_a), "/batch/", body)
    write(tenant_a)
    [row] = stored(tenant_a)
    assert abs(row.timestamp - (datetime.now(UTC) - timedelta(minutes=1))) < timedelta(seconds=5)


def test_posthog_batch_gzipped(tenant_a, key_a):
    body = json.dumps({"api_key": key_a[1], "batch": [{"event": "$pageview", "distinct_id": "anon"}]}).encode()
    response = host_client(tenant_a).post(
        "/batch/", gzip.compress(body), content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 200, response.content
    assert write(tenant_a) == 1


def test_posthog_js_base64_form_with_the_token_in_each_event(tenant_a, key_a):
    events = [{"event": "$pageview", "properties": {"distinct_id": "anon-1", "token": key_a[1], "$current_url": "/"}}]
    data = base64.b64encode(json.dumps(events).encode()).decode()
    response = host_client(tenant_a).post(
        "/e/?compression=base64&_=" + str(int(datetime.now(UTC).timestamp() * 1000)),
        f"data={data}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    write(tenant_a)
    [row] = stored(tenant_a)
    assert (row.event, row.distinct_id, row.properties["$current_url"]) == ("$pageview", "anon-1", "/")


@pytest.mark.parametrize("path", ["/capture/", "/e/", "/i/v0/e/", "/capture"])
def test_posthog_paths_take_one_event_with_token(tenant_a, key_a, path):
    response = post_json(host_client(tenant_a), path, {"token": key_a[1], "event": "x", "distinct_id": "d"})
    assert response.status_code == 200, (path, response.content)


def test_gzip_js_compression_flag(tenant_a, key_a):
    body = gzip.compress(json.dumps([{"event": "x", "properties": {"distinct_id": "d", "token": key_a[1]}}]).encode())
    response = host_client(tenant_a).post("/e/?compression=gzip-js", body, content_type="text/plain")
    assert response.status_code == 200, response.content
