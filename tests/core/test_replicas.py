"""The read-replica router's decisions (apps.core.replicas): which alias a read goes to in each
situation, how the replica's connection follows the tenant, the pins, and a replica that is down.
The real streaming replica is in tests/e2e/test_read_replicas.py."""

import time

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.db import connection, connections

from apps.core import replicas
from apps.core.middleware import ReplicaMiddleware
from apps.core.replicas import ReplicaRouter, replica_ok, replica_reads, request_reads

router = ReplicaRouter()


@pytest.fixture
def one_replica(settings, monkeypatch):
    """An alias replica1 configured as a replica that answers (no connection is made here: these
    tests are about decisions; the last one connects for real)."""
    connections.settings["replica1"] = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}
    settings.HUB_DATABASE_REPLICAS = ["replica1"]
    monkeypatch.setattr(connections["replica1"], "ensure_connection", lambda: None)
    replicas._down_until.clear()
    yield connections["replica1"]
    connections["replica1"].close()
    del connections["replica1"]
    del connections.settings["replica1"]


def test_code_that_did_not_ask_reads_the_primary(one_replica):
    assert router.db_for_read(None) is None


def test_a_replica_reads_block_reads_a_replica_in_the_primarys_tenant(one_replica):
    connection.set_schema("tenant_acme")
    with replica_reads():
        assert router.db_for_read(None) == "replica1"
    assert one_replica.schema_name == "tenant_acme"
    connection.set_schema_to_public()
    with replica_reads():
        router.db_for_read(None)
    assert one_replica.schema_name == "public"


def test_after_a_write_the_unit_of_work_reads_the_primary(one_replica):
    with replica_reads():
        assert router.db_for_write(None) == "default"
        assert router.db_for_read(None) is None


def test_inside_a_transaction_reads_go_to_the_primary(one_replica, monkeypatch):
    monkeypatch.setattr(connection, "in_atomic_block", True)
    with replica_reads():
        assert router.db_for_read(None) is None


def test_a_request_that_changes_things_never_reads_a_replica(one_replica):
    selector = replica_ok(lambda: router.db_for_read(None))
    with request_reads(safe=False, pinned=False):
        assert selector() is None
    with request_reads(safe=True, pinned=True):
        assert selector() is None
    with request_reads(safe=True, pinned=False):
        assert selector() == "replica1"
    assert selector() == "replica1"  # a marked selector outside a request (a task)


def test_replicas_never_migrate(one_replica):
    assert router.allow_migrate("replica1", "events") is False
    assert router.allow_migrate("default", "events") is None  # django-tenants' router decides


def test_a_pin_lasts_its_seconds():
    replicas.pin("user:test-pin", 0.3)
    assert replicas.is_pinned("user:test-pin")
    deadline = time.monotonic() + 5
    while replicas.is_pinned("user:test-pin"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not replicas.is_pinned(None)


def test_without_replicas_the_middleware_steps_aside(settings):
    settings.HUB_DATABASE_REPLICAS = []
    with pytest.raises(MiddlewareNotUsed):
        ReplicaMiddleware(lambda request: None)


def test_a_replica_that_does_not_answer_is_left_out_and_reads_go_to_the_primary(settings, caplog, django_db_blocker):
    """A real connection attempt to a port nobody listens on: refused, so the read goes to the
    primary, and the replica is not tried again for HUB_DATABASE_REPLICA_RETRY_SECONDS."""
    from tests.processes import free_port

    dead = {**connections.settings["default"], "PORT": free_port(), "TEST": {"MIRROR": "default"}}
    dead["OPTIONS"] = {k: v for k, v in dead["OPTIONS"].items() if k != "pool"} | {"connect_timeout": 1}
    connections.settings["replica9"] = dead
    settings.HUB_DATABASE_REPLICAS = ["replica9"]
    settings.HUB_DATABASE_REPLICA_RETRY_SECONDS = 30
    replicas._down_until.clear()
    try:
        with django_db_blocker.unblock(), replica_reads():
            assert router.db_for_read(None) is None
        assert "read replica replica9 does not answer" in caplog.text
        assert "refused" in caplog.text or "failed" in caplog.text  # a real attempt, not a test guard
        caplog.clear()
        with django_db_blocker.unblock(), replica_reads():
            assert router.db_for_read(None) is None
        assert "does not answer" not in caplog.text  # left out: not tried again
    finally:
        replicas._down_until.clear()
        del connections["replica9"]
        del connections.settings["replica9"]
