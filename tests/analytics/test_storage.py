"""Storage: the month-partitioned table, its partitions made ahead (and out of the default one),
and the writer's crash safety (the reliable queue)."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django_redis import get_redis_connection
from django_tenants.utils import schema_context

from apps.analytics import queue, services, storage
from apps.core.registry import registry

from .conftest import host_client, post_json, stored, write

pytestmark = pytest.mark.django_db


def partition_of(tenant, event_uuid: str) -> str:
    with schema_context(tenant.schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM analytics_event WHERE uuid = %s", [event_uuid])
        return cursor.fetchone()[0].split(".")[-1]


def test_the_table_is_partitioned_by_month_with_a_default_partition(tenant_a):
    with schema_context(tenant_a.schema_name):
        storage.event_table_ensure()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_partkeydef(to_regclass('analytics_event')), "
                "pg_get_constraintdef((SELECT oid FROM pg_constraint WHERE conrelid = to_regclass('analytics_event') "
                "AND contype = 'p'))"
            )
            partkey, primary_key = cursor.fetchone()
        names = storage.partitions()
    assert partkey == 'RANGE ("timestamp")'
    assert primary_key == 'PRIMARY KEY ("timestamp", uuid)'
    this_month = storage.month_start(datetime.now(UTC).date())
    assert {
        "analytics_event_default",
        storage.partition_name(storage.month_start(this_month, -1)),
        storage.partition_name(this_month),
        storage.partition_name(storage.month_start(this_month, 1)),
        storage.partition_name(storage.month_start(this_month, 2)),
    } == set(names)


def test_events_land_in_their_months_partition_or_the_default_one(tenant_a, key_a):
    now = datetime.now(UTC)
    recent, old = str(uuid.uuid4()), str(uuid.uuid4())
    batch = [
        {"event": "x", "distinct_id": "d", "uuid": recent, "timestamp": now.isoformat()},
        {"event": "x", "distinct_id": "d", "uuid": old, "timestamp": (now - timedelta(days=200)).isoformat()},
    ]
    post_json(host_client(tenant_a), "/batch/", {"api_key": key_a[1], "batch": batch})
    write(tenant_a)
    assert partition_of(tenant_a, recent) == storage.partition_name(storage.month_start(now.date()))
    assert partition_of(tenant_a, old) == "analytics_event_default"


def test_a_new_months_partition_takes_its_events_out_of_the_default_one(tenant_a, key_a):
    old_time = datetime.now(UTC) - timedelta(days=200)
    event_uuid = str(uuid.uuid4())
    body = {
        "api_key": key_a[1],
        "event": "x",
        "distinct_id": "d",
        "uuid": event_uuid,
        "timestamp": old_time.isoformat(),
    }
    post_json(host_client(tenant_a), "/api/v1/analytics/capture", body)
    write(tenant_a)
    with schema_context(tenant_a.schema_name):
        made = storage.partitions_ensure(today=old_time.date(), behind=0, ahead=0)
    assert made == [storage.partition_name(storage.month_start(old_time.date()))]
    assert partition_of(tenant_a, event_uuid) == made[0]
    assert len(stored(tenant_a)) == 1


def test_the_periodic_task_keeps_partitions_ahead(tenant_a):
    task = registry["periodic_tasks"]["analytics-partitions"]
    assert task.task == "apps.analytics.tasks.maintain_partitions_all_tenants"
    with schema_context(tenant_a.schema_name):
        storage.event_table_ensure()
        # Three months on, the upkeep makes the months then ahead.
        later = storage.month_start(date.today(), 3)
        made = storage.partitions_ensure(today=later)
        assert storage.partition_name(storage.month_start(later, 2)) in made
        assert services.partitions_maintain() == []  # nothing missing around today


def _queue_batch(tenant, key_raw, n=3) -> list[str]:
    uuids = [str(uuid.uuid4()) for _ in range(n)]
    batch = [{"event": "x", "distinct_id": "d", "uuid": u} for u in uuids]
    post_json(host_client(tenant), "/batch/", {"api_key": key_raw, "batch": batch})
    return uuids


def test_a_writer_that_dies_before_commit_loses_nothing(tenant_a, key_a, settings):
    """The writer's steps run by hand, the process 'dying' after it took the events: they wait in
    its processing list, the sweeper gives them back once its claim ran out, the next writer
    writes them."""
    settings.HUB_ANALYTICS_WRITER_LEASE_SECONDS = 30
    uuids = _queue_batch(tenant_a, key_a[1])
    schema = tenant_a.schema_name
    claim = queue.Claim(schema, 30)
    taken = claim.take(20)
    assert len(taken) == 1 and queue.length(schema) == 0
    # ... the worker is killed here: no commit, no done().
    assert queue.recover(schema) == 0  # its claim still runs
    assert queue.recover(schema, now=datetime.now(UTC).timestamp() + 31) == 1
    assert queue.length(schema) == 1
    write(tenant_a)
    assert sorted(str(r.uuid) for r in stored(tenant_a)) == sorted(uuids)


def test_the_sweeper_gives_back_a_dead_writers_events_and_sends_a_writer(tenant_a, key_a, settings):
    settings.HUB_ANALYTICS_WRITER_LEASE_SECONDS = 0.01
    _queue_batch(tenant_a, key_a[1])
    schema = tenant_a.schema_name
    queue.Claim(schema, 0.01).take(20)
    sweeper = registry["sweepers"]["analytics-queue"]
    import time

    time.sleep(0.05)
    with schema_context(schema):
        assert sweeper.sweep() == 1
    assert queue.length(schema) == 1


def test_a_writer_that_dies_after_commit_writes_nothing_twice(tenant_a, key_a):
    uuids = _queue_batch(tenant_a, key_a[1])
    schema = tenant_a.schema_name
    claim = queue.Claim(schema, 30)
    with schema_context(schema):
        services.blobs_write(claim.take(20))  # committed (in the test's transaction)...
    # ... and killed before done(): the blobs are given back later and written again.
    queue.recover(schema, now=datetime.now(UTC).timestamp() + 31)
    assert write(tenant_a) == 0
    assert sorted(str(r.uuid) for r in stored(tenant_a)) == sorted(uuids)


def test_a_batch_the_database_refuses_is_set_aside_and_the_rest_written(tenant_a, key_a):
    good = _queue_batch(tenant_a, key_a[1])
    schema = tenant_a.schema_name
    # A blob that cannot be written (it could only come from a bug or an older version).
    queue.push(schema, json.dumps([["not a time", str(uuid.uuid4()), "x", "d", "{}", "now", None]]).encode())
    with transaction.atomic():
        write(tenant_a)
    assert sorted(str(r.uuid) for r in stored(tenant_a)) == sorted(good)
    assert get_redis_connection("default").llen(f"hub:analytics:dead:{schema}") == 1
    assert queue.length(schema) == 0


def test_the_tasks_run_in_the_senders_tenant(tenant_a, key_a):
    from django_tenants.utils import tenant_context

    from apps.analytics.tasks import maintain_partitions, write_events

    _queue_batch(tenant_a, key_a[1], n=2)
    with tenant_context(tenant_a):
        assert write_events.apply().get() == 2
        assert maintain_partitions.apply().get() == []  # the writer made the table and its partitions
    assert len(stored(tenant_a)) == 2
