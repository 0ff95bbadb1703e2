"""A real Celery worker killed (SIGKILL) while it writes a batch: nothing is lost, nothing is
written twice. The writer is held inside its transaction (a lock on the uuid table), killed there,
and a second worker writes the batch once the dead one's claim has run out."""

import time
import uuid

import psycopg
import pytest
from django.db import connection
from django_redis import get_redis_connection
from django_tenants.utils import schema_context

from apps.analytics import queue, services, storage
from apps.analytics.models import EventUuid, Person, ProjectKey
from tests.conftest import committed, subprocess_env
from tests.processes import celery_worker

from .conftest import host_client, post_json, project_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
EVENTS = 500


def _committed_rows(schema: str, uuids: list[str]) -> list[str]:
    def read():
        with schema_context(schema), connection.cursor() as cursor:
            cursor.execute("SELECT uuid::text FROM analytics_event WHERE uuid = ANY(%s::uuid[])", [uuids])
            return [row[0] for row in cursor.fetchall()]

    return committed(read)


def _setup(tenant):
    with schema_context(tenant.schema_name):
        storage.event_table_ensure()
    return project_key(tenant, name="killed writer")


def _cleanup(tenant, key_pk):
    with schema_context(tenant.schema_name), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS analytics_event CASCADE")
        EventUuid.objects.all().delete()
        Person.objects.all().delete()
        ProjectKey.objects.filter(pk=key_pk).delete()


def _wait(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_killing_the_writer_mid_batch_loses_no_event(tenant_a):
    schema = tenant_a.schema_name
    key, raw = committed(lambda: _setup(tenant_a))
    redis = get_redis_connection("default")
    settings = connection.settings_dict
    blocker = psycopg.connect(
        dbname=settings["NAME"], host=settings["HOST"] or None, port=settings["PORT"] or None, user=settings["USER"]
    )
    try:
        # Hold the writer inside its transaction: its INSERT waits for this lock.
        blocker.execute(f'LOCK TABLE "{schema}".analytics_eventuuid IN SHARE MODE')
        uuids = sorted(str(uuid.uuid4()) for _ in range(EVENTS))
        batch = [{"event": "bought", "distinct_id": f"p{i % 10}", "uuid": u} for i, u in enumerate(uuids)]
        with celery_worker(subprocess_env()) as worker:
            response = post_json(host_client(tenant_a), "/batch/", {"api_key": raw, "batch": batch})
            assert response.json()["accepted"] == EVENTS

            def taken():
                return queue.length(schema) == 0 and any(
                    redis.llen(k) for k in redis.scan_iter(match=queue.processing_key(schema, "*"))
                )

            _wait(taken, "the worker never took the batch")
            time.sleep(0.5)  # it is now waiting on the lock, inside its transaction
            worker.kill()
            worker.wait()
        blocker.rollback()
        assert _committed_rows(schema, uuids) == []
        assert queue.length(schema) == 0  # the batch sits in the dead writer's processing list

        with celery_worker(subprocess_env()):
            # Once its claim has run out (the lease), the sweeper gives the batch back and sends a writer.
            assert (
                queue.recover(schema, now=time.time() + services.conf.get("HUB_ANALYTICS_WRITER_LEASE_SECONDS") + 1)
                == 1
            )
            services.writer_enqueue(schema=schema)
            _wait(lambda: len(_committed_rows(schema, uuids)) >= EVENTS, "the batch was not written after the kill")
        assert sorted(_committed_rows(schema, uuids)) == uuids  # every event, once
    finally:
        blocker.close()
        committed(lambda: _cleanup(tenant_a, key.pk))
