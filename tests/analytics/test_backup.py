"""A tenant's backup holds its analytics (events, persons, uuids) and a restore brings them back
into a working, partitioned event table."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from psycopg import sql

from apps.analytics import storage
from apps.analytics.models import Event, Person
from apps.tenancy.backup import tenant_backup, tenant_restore

from .conftest import host_client, post_json, project_key, write

pytestmark = pytest.mark.django_db

ANALYTICS_TABLES = ("analytics_event", "analytics_eventuuid", "analytics_person", "analytics_persondistinctid")


def rows(schema: str, table: str) -> list[tuple]:
    """Every row of `table` (a partitioned table's: read through it), in a stable order."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT * FROM {}.{} AS t ORDER BY t::text").format(sql.Identifier(schema), sql.Identifier(table))
        )
        return cursor.fetchall()


def send(tenant, raw_key: str, batch: list[dict]) -> None:
    response = post_json(host_client(tenant), "/batch/", {"api_key": raw_key, "batch": batch})
    assert response.status_code == 200, response.content
    write(tenant)


def test_a_tenant_with_events_comes_back_with_them(tenant_a, tmp_path):
    _, raw_key = project_key(tenant_a)
    now = datetime.now(UTC)
    batch = [
        {"event": "$pageview", "distinct_id": "anon-1", "timestamp": now.isoformat()},
        {"event": "signed_up", "distinct_id": "user-42", "properties": {"$set": {"plan": "team"}}},
        {"event": "$identify", "distinct_id": "user-42", "properties": {"$anon_distinct_id": "anon-1"}},
        # Older than the partitions kept ready: it sits in the default partition.
        {"event": "old", "distinct_id": "user-7", "timestamp": (now - timedelta(days=200)).isoformat()},
        {"event": "last_month", "distinct_id": "user-7", "timestamp": (now - timedelta(days=31)).isoformat()},
    ]
    send(tenant_a, raw_key, batch)
    source = tenant_a.schema_name
    before = {table: rows(source, table) for table in ANALYTICS_TABLES}
    assert len(before["analytics_event"]) >= len(batch)
    assert len(before["analytics_eventuuid"]) == len(before["analytics_event"])
    assert before["analytics_person"] and before["analytics_persondistinctid"]

    path = tmp_path / "with-events.tar.gz"
    manifest = tenant_backup(tenant=tenant_a, output=path)
    # The events are backed up once, through the partitioned table, not partition by partition.
    assert manifest["tables"]["analytics_event"]["rows"] == len(before["analytics_event"])
    assert not [name for name in manifest["tables"] if name.startswith("analytics_event_")]

    result = tenant_restore(path=path, slug="restored-events")
    schema = result.tenant.schema_name
    assert result.counts["tables"]["analytics_event"] == len(before["analytics_event"])
    for table in ANALYTICS_TABLES:
        assert rows(schema, table) == before[table], table

    with schema_context(schema):
        # Still partitioned by month, each event in its month's partition or the default one.
        assert "analytics_event_default" in storage.partitions()
        assert storage.partition_name(storage.month_start(now.date())) in storage.partitions()
        assert Event.objects.filter(event="old").count() == 1
        assert Event.objects.filter(timestamp__gte=now - timedelta(days=1)).count() >= 3
        merged = Person.objects.get(distinct_ids__distinct_id="user-42")
        assert {d.distinct_id for d in merged.distinct_ids.all()} == {"user-42", "anon-1"}
        assert merged.properties["plan"] == "team"
        with connection.cursor() as cursor:
            cursor.execute("SELECT tableoid::regclass::text FROM analytics_event WHERE event = 'old'")
            assert cursor.fetchone()[0].endswith("analytics_event_default")

    # The restored tenant takes new events, and a re-sent one is still stored once.
    restored = result.tenant
    _, restored_key = project_key(restored)
    known = str(before["analytics_event"][0][1])
    send(
        restored,
        restored_key,
        [{"event": "after", "distinct_id": "user-42"}, {"event": "again", "distinct_id": "x", "uuid": known}],
    )
    with schema_context(schema):
        assert Event.objects.filter(event="after").count() == 1
        assert Event.objects.filter(uuid=uuid.UUID(known)).count() == 1


def test_a_tenant_without_events_backs_up_and_restores_as_before(tenant_b, tmp_path):
    with schema_context(tenant_b.schema_name):
        assert not storage.event_table_exists()
    path = tmp_path / "no-events.tar.gz"
    manifest = tenant_backup(tenant=tenant_b, output=path)
    assert "analytics_event" not in manifest["tables"]

    result = tenant_restore(path=path, slug="restored-quiet")
    assert "analytics_event" not in result.counts["tables"]
    with schema_context(result.tenant.schema_name):
        assert not storage.event_table_exists()  # made on first need, as in any new tenant
    _, raw_key = project_key(result.tenant)
    send(result.tenant, raw_key, [{"event": "first", "distinct_id": "d"}])
    with schema_context(result.tenant.schema_name):
        assert Event.objects.filter(event="first").count() == 1
