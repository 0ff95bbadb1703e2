"""The event stream end to end: a real Celery worker publishes what a committed transaction wrote
to the outbox to the real NATS JetStream server (apps.events.streaming)."""

import time

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.events.models import Event, StreamEntry
from tests.conftest import committed, subprocess_env
from tests.jetstream import PREFIX, STREAM, TYPE, change, stored
from tests.processes import celery_worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def test_a_worker_streams_committed_events_in_order_on_the_tenants_subjects(stream_on, tenant_a):
    env = subprocess_env(
        HUB_EVENT_STREAM_URL=stream_on, HUB_EVENT_STREAM_NAME=STREAM, HUB_EVENT_STREAM_SUBJECT_PREFIX=PREFIX
    )

    def publish_all():
        with transaction.atomic():
            return [str(publish(TYPE, change("name", n), tenant=tenant_a).pk) for n in range(1, 31)]

    with celery_worker(env):
        ids = committed(publish_all)
        deadline = time.monotonic() + 30
        while len(stored(stream_on)) < len(ids):
            assert time.monotonic() < deadline, f"{len(stored(stream_on))} of {len(ids)} events reached the stream"
            time.sleep(0.1)

    messages = stored(stream_on)
    assert [m["body"]["id"] for m in messages] == ids
    assert {m["subject"] for m in messages} == {f"{PREFIX}.alpha.{TYPE}"}
    assert [m["body"]["payload"]["changes"]["name"]["new"] for m in messages] == list(range(1, 31))

    def cleanup():
        with tenant_context(tenant_a):
            assert not StreamEntry.objects.filter(event_id__in=ids).exists()  # every entry acknowledged
            Event.objects.filter(pk__in=ids).delete()

    committed(cleanup)
