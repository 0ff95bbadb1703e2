"""What an external event stream is to the hub: somewhere messages go, in order, acknowledged.

An engine (NATS JetStream here; Kafka would be another) subclasses `EventStream` and is named in
ENGINES by the scheme of HUB_EVENT_STREAM_URL. The hub builds the messages (`event_message`): one
per event, on the subject `<prefix>.<tenant slug>.<event type>`, with the event's id as message id
so the engine can drop copies of a message it already has.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import import_module
from urllib.parse import urlsplit

import orjson
from django.conf import settings

# URL scheme → "module:class" of the engine (imported when used).
ENGINES = {
    "nats": "apps.events.streams.jetstream:JetStream",
    "tls": "apps.events.streams.jetstream:JetStream",
    "kafka": "apps.events.streams.kafka:Kafka",
}


class StreamUnavailable(RuntimeError):
    """The stream cannot be reached or set up; the events wait in the outbox."""


@dataclass(frozen=True)
class StreamMessage:
    subject: str
    data: bytes
    msg_id: str
    headers: dict[str, str] = field(default_factory=dict)
    key: str = ""  # what keeps messages together and in order where the engine partitions (the tenant)


@dataclass
class PublishResult:
    """How many of the messages, from the first, the stream acknowledged (`acked`; those after the
    first failure are not counted even if they got through), how many of those it already had
    (`duplicates`), and the failure that stopped it (`error`, empty if none)."""

    acked: int = 0
    duplicates: int = 0
    error: str = ""


class EventStream(ABC):
    """An open connection to a stream. Use it as a context manager, from synchronous code."""

    @abstractmethod
    def publish(self, messages: Sequence[StreamMessage]) -> PublishResult:
        """Sends the messages in order and waits for the stream's acknowledgements."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stream_enabled() -> bool:
    return bool(settings.HUB_EVENT_STREAM_URL)


def event_subject(*, tenant_slug: str, event_type: str) -> str:
    return f"{settings.HUB_EVENT_STREAM_SUBJECT_PREFIX}.{tenant_slug}.{event_type}"


def event_message(event, *, tenant_slug: str, replay: str = "") -> StreamMessage:
    """The message of one outbox event. A replay's copy carries its own message id (the event's id
    and the replay's) and a Hub-Replay header, so the stream does not drop it as a duplicate."""
    body = {
        "id": str(event.id),
        "type": event.type,
        "tenant": tenant_slug,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "payload": event.payload,
    }
    headers = {"Hub-Event-Type": event.type, "Hub-Tenant": tenant_slug}
    traceparent = getattr(event, "traceparent", "")  # set by the tracing layer, when there is one
    if traceparent:
        headers["traceparent"] = traceparent
    msg_id = str(event.id)
    if replay:
        headers["Hub-Replay"] = replay
        msg_id = f"{event.id}:replay:{replay}"
    return StreamMessage(
        subject=event_subject(tenant_slug=tenant_slug, event_type=event.type),
        data=orjson.dumps(body),
        msg_id=msg_id,
        headers=headers,
        key=tenant_slug,
    )


def stream_open(url: str | None = None) -> EventStream:
    """Connects to the stream at `url` (default HUB_EVENT_STREAM_URL), with the engine its scheme names."""
    url = url or settings.HUB_EVENT_STREAM_URL
    if not url:
        raise StreamUnavailable("no event stream is configured (HUB_EVENT_STREAM_URL is empty)")
    scheme = urlsplit(url).scheme
    if scheme not in ENGINES:
        raise StreamUnavailable(f"no event stream engine for {scheme}:// URLs (known: {', '.join(sorted(ENGINES))})")
    module, _, name = ENGINES[scheme].partition(":")
    return getattr(import_module(module), name)(url)
