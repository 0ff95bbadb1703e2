"""Kafka (or any Kafka-protocol broker) as the hub's event stream (confluent-kafka).

`kafka://host:9092[,host2:9092]` publishes every event to one topic (HUB_EVENT_STREAM_KAFKA_TOPIC,
default the subject prefix, `hub.events`), keyed by the tenant's slug: all of a tenant's events go
to one partition, in order (an idempotent producer, acks from all in-sync replicas, so retries
neither reorder nor repeat within a connection). The subject, event type, tenant and message id
travel as headers (Hub-Subject, Hub-Event-Type, Hub-Tenant, Hub-Message-Id).

Unlike JetStream, Kafka drops no copies across connections: a publisher that dies after the broker
stored a batch and before the outbox recorded it sends the batch again, and consumers see those
events twice. Consumers drop repeats by the event's id (the Hub-Message-Id header, or `id` in the
body). The hub does not create the topic; make it with the partitions and replication you want.
"""

from collections.abc import Sequence
from urllib.parse import urlsplit

from confluent_kafka import KafkaException, Producer
from django.conf import settings

from .base import EventStream, PublishResult, StreamMessage, StreamUnavailable


def kafka_topic() -> str:
    return settings.HUB_EVENT_STREAM_KAFKA_TOPIC or settings.HUB_EVENT_STREAM_SUBJECT_PREFIX


class Kafka(EventStream):
    def __init__(self, url: str):
        self.timeout = settings.HUB_EVENT_STREAM_ACK_TIMEOUT_SECONDS
        self.topic = kafka_topic()
        self._producer = Producer(
            {
                "bootstrap.servers": urlsplit(url).netloc,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 2,
                "message.timeout.ms": int(self.timeout * 1000),
                "socket.connection.setup.timeout.ms": int(self.timeout * 1000),
            }
        )
        try:
            metadata = self._producer.list_topics(self.topic, timeout=self.timeout)
        except KafkaException as exc:
            raise StreamUnavailable(f"cannot reach Kafka at {url}: {exc}") from exc
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None:
            raise StreamUnavailable(f"the Kafka topic {self.topic} does not exist at {url}; create it first")

    def publish(self, messages: Sequence[StreamMessage]) -> PublishResult:
        outcomes: list = [None] * len(messages)

        def delivered(index):
            return lambda err, msg: outcomes.__setitem__(index, err if err is not None else True)

        result = PublishResult()
        try:
            for index, message in enumerate(messages):
                headers = {**message.headers, "Hub-Subject": message.subject, "Hub-Message-Id": message.msg_id}
                self._producer.produce(
                    self.topic, key=message.key, value=message.data, headers=headers, on_delivery=delivered(index)
                )
        except (BufferError, KafkaException) as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        self._producer.flush(self.timeout)
        for outcome in outcomes:
            if outcome is not True:
                result.error = result.error or (str(outcome) if outcome is not None else "no acknowledgement")
                break
            result.acked += 1
        return result

    def close(self) -> None:
        self._producer.flush(self.timeout)
