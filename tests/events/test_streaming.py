"""The external event stream against a real NATS JetStream server (apps.events.streaming).

The machine's nats-server (127.0.0.1:4222, JetStream on) is used when it answers; otherwise the
tests start one with -js on a spare port and a temporary store. Each run has a stream and subject
prefix of its own, deleted at the end.
"""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.events import streaming
from apps.events.models import StreamEntry
from apps.events.services import event_publish
from apps.events.streams import base as streams
from tests.jetstream import PREFIX, TYPE, change, stored
from tests.processes import free_port


def drain(tenant, **kwargs) -> int:
    with tenant_context(tenant):
        return streaming.events_stream_pending(**kwargs)


def test_events_arrive_on_per_tenant_subjects_with_their_payloads(stream_on, tenant_a, tenant_b, owner_a):
    first = publish(TYPE, change("name", 1), tenant=tenant_a, actor=owner_a)
    second = publish(TYPE, change("time_zone", 1), tenant=tenant_a)
    other = publish(TYPE, change("name", 7), tenant=tenant_b)

    assert drain(tenant_a) == 2
    assert drain(tenant_b) == 1
    with tenant_context(tenant_a):
        assert not StreamEntry.objects.exists()  # marked published (gone) once acknowledged

    messages = stored(stream_on)
    assert [m["subject"] for m in messages] == [f"{PREFIX}.alpha.{TYPE}"] * 2 + [f"{PREFIX}.beta.{TYPE}"]
    assert [m["headers"]["Nats-Msg-Id"] for m in messages] == [str(first.pk), str(second.pk), str(other.pk)]
    assert messages[0]["headers"]["Hub-Tenant"] == "alpha"
    assert messages[0]["body"] == {
        "id": str(first.pk),
        "type": TYPE,
        "tenant": "alpha",
        "occurred_at": first.occurred_at.isoformat(),
        "actor_id": owner_a.pk,
        "payload": change("name", 1),
    }
    assert messages[2]["body"]["payload"] == change("name", 7)


def test_the_stream_is_off_by_default(settings, tenant_a):
    settings.HUB_EVENT_STREAM_URL = ""
    publish(TYPE, change("name", 1), tenant=tenant_a)
    with tenant_context(tenant_a):
        assert not StreamEntry.objects.exists()


class Wrapped(streams.EventStream):
    """The real stream, with a publish() that misbehaves as a subclass says."""

    def __init__(self, url):
        self.real = streams.stream_open(url)

    def publish(self, messages):
        return self.real.publish(messages)

    def close(self):
        self.real.close()


class CrashAfterPublish(Wrapped):
    """The worker "dies" once the stream has acknowledged the batch and before the outbox has
    recorded it."""

    def publish(self, messages):
        result = self.real.publish(messages)
        assert result.acked == len(messages)
        raise SystemExit("worker killed between the stream's ack and the commit")


def test_a_crash_between_publish_and_commit_resends_and_jetstream_drops_the_copies(stream_on, tenant_a, monkeypatch):
    events = [publish(TYPE, change("name", n), tenant=tenant_a) for n in range(1, 6)]
    monkeypatch.setattr(streaming, "stream_open", lambda url=None: CrashAfterPublish(url or stream_on))
    with pytest.raises(SystemExit):
        drain(tenant_a)
    with tenant_context(tenant_a):
        assert StreamEntry.objects.count() == 5  # nothing recorded as published: the worker died first
    assert len(stored(stream_on)) == 5

    monkeypatch.undo()
    resent = []
    real_open = streams.stream_open

    def counting_open(url=None):
        opened = real_open(url)
        publish_real = opened.publish

        def publish_counting(messages):
            result = publish_real(messages)
            resent.append(result)
            return result

        opened.publish = publish_counting
        return opened

    monkeypatch.setattr(streaming, "stream_open", counting_open)
    assert drain(tenant_a) == 5  # sent again, acknowledged...
    assert resent[0].duplicates == 5  # ...as copies the stream already had
    messages = stored(stream_on)
    assert [m["headers"]["Nats-Msg-Id"] for m in messages] == [str(e.pk) for e in events]  # each once
    with tenant_context(tenant_a):
        assert not StreamEntry.objects.exists()


class RefuseAfter(Wrapped):
    """The stream acknowledges only the first `n` messages of a batch, once."""

    def __init__(self, url, n):
        super().__init__(url)
        self.n = n

    def publish(self, messages):
        if self.n is None:
            return self.real.publish(messages)
        result = self.real.publish(messages[: self.n])
        self.n = None
        result.error = "TimeoutError: no acknowledgement"
        return result


def test_each_aggregates_events_reach_the_stream_in_the_order_they_were_written(stream_on, tenant_a, monkeypatch):
    """Two aggregates (two settings) changed in turns, 40 events, published 7 at a time; the stream
    fails once in the middle of a batch. Each aggregate's versions arrive in order, with no gap."""
    for n in range(1, 21):
        publish(TYPE, change("name", n), tenant=tenant_a)
        publish(TYPE, change("time_zone", n), tenant=tenant_a)
    refusing = RefuseAfter(stream_on, 3)
    monkeypatch.setattr(streaming, "stream_open", lambda url=None: refusing)
    first_run = drain(tenant_a, batch_size=7)
    assert first_run == 3
    with tenant_context(tenant_a):
        entry = StreamEntry.objects.order_by("id").first()
        assert entry.attempts == 1 and "no acknowledgement" in entry.last_error
    refusing.real = streams.stream_open(stream_on)  # the first connection was closed with its run
    assert drain(tenant_a, batch_size=7) == 37

    for field in ("name", "time_zone"):
        versions = [
            m["body"]["payload"]["changes"][field]["new"]
            for m in stored(stream_on)
            if field in m["body"]["payload"]["changes"]
        ]
        assert versions == list(range(1, 21))


def test_the_stream_down_leaves_the_events_waiting_with_the_reason(settings, tenant_a, stream_on):
    settings.HUB_EVENT_STREAM_URL = f"nats://127.0.0.1:{free_port()}"
    publish(TYPE, change("name", 1), tenant=tenant_a)
    assert drain(tenant_a) == 0
    with tenant_context(tenant_a):
        entry = StreamEntry.objects.get()
        assert entry.attempts == 1
        assert "cannot connect to NATS" in entry.last_error


def test_replay_publishes_a_tenants_events_since_a_time_in_order(stream_on, tenant_a, tenant_b):
    now = timezone.now()
    other = publish(TYPE, change("name", 5), tenant=tenant_b)  # another tenant's, in the same hours
    with tenant_context(tenant_a):
        old = event_publish(
            event_type=TYPE, payload=change("name", 1), tenant=tenant_a, occurred_at=now - timedelta(days=3)
        )
        recent = [
            event_publish(
                event_type=TYPE, payload=change("name", n), tenant=tenant_a, occurred_at=now - timedelta(hours=5 - n)
            )
            for n in (2, 3, 4)
        ]
        StreamEntry.objects.all().delete()  # as if streamed long ago
    since = (now - timedelta(days=1)).isoformat()
    # Until 50 minutes ago: the session tenant may hold events that other tests committed minutes ago.
    until = (now - timedelta(minutes=50)).isoformat()
    out = io.StringIO()
    call_command("events_replay", tenant="alpha", since=since, until=until, to="jetstream", replay_id="r1", stdout=out)

    messages = stored(stream_on)
    assert [m["body"]["id"] for m in messages] == [str(e.pk) for e in recent]
    assert not {str(old.pk), str(other.pk)} & {m["body"]["id"] for m in messages}
    assert {m["headers"]["Hub-Replay"] for m in messages} == {"r1"}
    assert messages[0]["headers"]["Nats-Msg-Id"] == f"{recent[0].pk}:replay:r1"
    assert messages[0]["subject"] == f"{PREFIX}.alpha.{TYPE}"
    assert "100%" in out.getvalue() and "Published 3 events to jetstream (replay r1)." in out.getvalue()

    # The same replay again (resuming one that stopped): the stream already has every copy.
    call_command("events_replay", tenant="alpha", since=since, until=until, replay_id="r1", stdout=io.StringIO())
    assert len(stored(stream_on)) == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tenant": "nobody", "since": "2026-01-01"}, "No tenant with the slug “nobody”."),
        ({"tenant": "alpha", "since": "last tuesday"}, "--since must be a date or a date and time"),
        ({"tenant": "alpha", "since": "2026-01-02", "until": "2026-01-01"}, "--until must be later than --since."),
    ],
)
def test_replay_refuses_bad_input_in_words(stream_on, tenant_a, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("events_replay", **options, stdout=io.StringIO())


def test_replay_without_a_stream_says_what_to_set(settings, tenant_a):
    settings.HUB_EVENT_STREAM_URL = ""
    with pytest.raises(CommandError, match="set HUB_EVENT_STREAM_URL or pass --url"):
        call_command("events_replay", tenant="alpha", since="2026-01-01", stdout=io.StringIO())
