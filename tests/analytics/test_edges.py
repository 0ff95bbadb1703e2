"""The edges: the less common request forms, key rules, and the writer's fallbacks."""

import base64
import gzip
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import schema_context

from apps.analytics import capture, queue, services
from apps.analytics.models import Event, Person, PersonDistinctId, ProjectKey
from apps.identity.models import Membership

from .conftest import host_client, post_json, stored, write

pytestmark = pytest.mark.django_db


def read(raw: bytes, **kwargs):
    options = {"content_type": "application/json", "content_encoding": "", "query": {}, "authorization": ""}
    return capture.payload_read(raw, **{**options, **kwargs})


def test_a_declared_length_over_the_limit_is_refused_before_reading(settings):
    settings.HUB_ANALYTICS_MAX_BODY_BYTES = 10
    stream = io.BytesIO(b"x" * 5)
    with pytest.raises(capture.CaptureError) as exc:
        capture.body_read(stream, "11")
    assert exc.value.status == 413 and stream.tell() == 0
    assert capture.body_read(io.BytesIO(b"{}"), "not a number") == b"{}"


def test_a_body_that_is_not_gzip_is_400():
    with pytest.raises(capture.CaptureError) as exc:
        read(b"not gzip", content_encoding="gzip")
    assert (exc.value.status, exc.value.field) == (400, "body")


def test_form_data_as_plain_json_or_base64_of_gzip():
    event = {"event": "x", "distinct_id": "d", "properties": {"token": "phc_12345678_s"}}
    plain = read(b"data=" + json.dumps([event]).encode(), content_type="application/x-www-form-urlencoded")
    zipped = base64.b64encode(gzip.compress(json.dumps(event).encode())).decode().rstrip("=")
    packed = read(f"data={zipped}".encode(), content_type="application/x-www-form-urlencoded")
    assert plain.events == [event] and plain.api_key == "phc_12345678_s"
    assert packed.events == [event] and packed.batch is False


def test_offset_and_per_event_sent_at_set_the_time():
    now = datetime.now(UTC)
    payload = read(
        json.dumps(
            [
                {"event": "x", "distinct_id": "d", "offset": 60_000},
                {
                    "event": "y",
                    "distinct_id": "d",
                    "timestamp": (now - timedelta(hours=2)).isoformat(),
                    "sent_at": (now - timedelta(hours=1)).isoformat(),
                },
            ]
        ).encode()
    )
    first, second = capture.events_check(payload, now=now).rows
    assert datetime.fromisoformat(first[0]) == now - timedelta(minutes=1)
    assert abs(datetime.fromisoformat(second[0]) - (now - timedelta(hours=1))) < timedelta(seconds=1)


@pytest.mark.parametrize(
    "event, field, code",
    [
        ({"event": "x", "distinct_id": "d" * 201}, "distinct_id", "too_long"),
        ({"event": "x", "distinct_id": "a\x00b"}, "distinct_id", "invalid"),
        ({"event": "x", "distinct_id": "d", "$set": ["a"]}, "$set", "invalid_type"),
        ({"event": "x", "distinct_id": "d", "$set": {"a": "\x00"}}, "$set", "invalid"),
        ({"event": "$identify", "distinct_id": "d", "properties": {"$anon_distinct_id": [1]}},
         "properties.$anon_distinct_id", "invalid_type"),
        ({"event": "x", "distinct_id": "d", "uuid": 12}, "uuid", "invalid"),
    ],
)  # fmt: skip
def test_more_refusals(event, field, code):
    [refused] = capture.events_check(read(json.dumps([event]).encode())).refused
    assert (refused["field"], refused["code"]) == (field, code)


def test_key_rules(tenant_a):
    viewer = Membership.objects.filter(tenant=tenant_a).first()
    viewer.role = "member"
    with schema_context(tenant_a.schema_name):
        with pytest.raises(PermissionDenied):
            services.project_key_create(tenant=tenant_a, actor=viewer, name="x")
        for name, origins, field in [
            ("", [], "name"),
            ("x" * 101, [], "name"),
            ("ok", "https://a.test", "allowed_origins"),
            ("ok", ["ftp://a.test"], "allowed_origins"),
        ]:
            with pytest.raises(ValidationError) as exc:
                services.project_key_create(tenant=tenant_a, actor=None, name=name, allowed_origins=origins)
            assert field in exc.value.message_dict
        key, _ = services.project_key_create(tenant=tenant_a, actor=None, name="any", allowed_origins=["*"])
        assert str(key).startswith("any (phc_") and key.status == "active"
        services.MAX_KEYS_PER_TENANT, limit = (
            ProjectKey.objects.filter(revoked_at__isnull=True, builtin=False).count(),  # the built-in key aside
            services.MAX_KEYS_PER_TENANT,
        )
        try:
            with pytest.raises(ValidationError, match="at most"):
                services.project_key_create(tenant=tenant_a, actor=None, name="one too many")
        finally:
            services.MAX_KEYS_PER_TENANT = limit


def test_a_busy_writer_hands_over_to_a_new_task(tenant_a, key_a, monkeypatch, settings):
    for _ in range(2):
        post_json(
            host_client(tenant_a), "/batch/", {"api_key": key_a[1], "batch": [{"event": "x", "distinct_id": "d"}]}
        )
    sent = []
    monkeypatch.setattr(services, "writer_enqueue", lambda schema: sent.append(schema))
    settings.HUB_ANALYTICS_WRITER_TAKE = 1
    with schema_context(tenant_a.schema_name):
        assert services.events_write_queued(max_rounds=1) == 1
    assert sent == [tenant_a.schema_name] and queue.length(tenant_a.schema_name) == 1


def test_while_the_database_fails_the_events_go_back_to_the_queue(tenant_a, key_a, monkeypatch):
    post_json(host_client(tenant_a), "/batch/", {"api_key": key_a[1], "batch": [{"event": "x", "distinct_id": "d"}]})

    def down(blobs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(services, "blobs_write", down)
    monkeypatch.setattr(services, "_database_answers", lambda: False)
    with schema_context(tenant_a.schema_name), pytest.raises(ConnectionError):
        services.events_write_queued()
    assert queue.length(tenant_a.schema_name) == 1
    monkeypatch.undo()
    assert write(tenant_a) == 1 and len(stored(tenant_a)) == 1


def test_the_partition_upkeep_is_sent_to_every_active_tenant(tenant_a, tenant_b, monkeypatch):
    from apps.analytics import tasks

    sent = []
    monkeypatch.setattr(tasks.maintain_partitions, "apply_async", lambda headers: sent.append(headers["_schema_name"]))
    assert tasks.maintain_partitions_all_tenants() == len(sent)
    assert {tenant_a.schema_name, tenant_b.schema_name} <= set(sent)


def test_rows_read_as_people_would(tenant_a, key_a):
    post_json(
        host_client(tenant_a), "/batch/", {"api_key": key_a[1], "batch": [{"event": "bought", "distinct_id": "jo"}]}
    )
    write(tenant_a)
    with schema_context(tenant_a.schema_name):
        assert str(Event.objects.get(event="bought")) == "bought by jo"
        link = PersonDistinctId.objects.get(distinct_id="jo")
        assert str(link) == "jo" and str(link.person) == str(Person.objects.get(pk=link.person_id).uuid)
