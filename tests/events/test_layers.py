"""The channel layer (apps.events.layers): Redis pub/sub, one subscription per group and
process, deployments on one Redis server kept apart, and a lost Redis closes the sockets so the
pages reconnect and catch up.

As in test_live.py the connections run under asyncio.run (see tests/websockets.py)."""

import asyncio

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings

from apps.core import realtime
from apps.events.layers import HubChannelLayer
from config.settings.base import redis_url_for
from tests.processes import PrivateRedis
from tests.websockets import communicator, logged_in

NOTE = {"id": 1, "title": "Hi", "event_type": "member.joined", "url": "", "body": "", "created": "", "read": False}


def _address(database: int) -> str:
    """The test Redis server's `database` (a TCP or unix-socket URL, as REDIS_URL says)."""
    return redis_url_for("redis", database)


def test_members_of_a_group_in_one_process_share_one_subscription():
    layer = HubChannelLayer(hosts=[{"address": _address(4)}])

    async def talk():
        channels = [await layer.new_channel() for _ in range(3)]
        for channel in channels:
            await layer.group_add("hub.t_alpha", channel)
        await layer.group_send("hub.t_alpha", {"type": "hub.event", "n": 1})
        got = [await asyncio.wait_for(layer.receive(channel), 2) for channel in channels]
        client = redis.Redis.from_url(_address(4))
        subscribers = client.pubsub_numsub("asgi:4:__group__hub.t_alpha")
        client.close()
        await layer.flush()
        return got, subscribers

    got, subscribers = asyncio.run(talk())
    assert got == [{"type": "hub.event", "n": 1}] * 3
    assert subscribers == [(b"asgi:4:__group__hub.t_alpha", 1)]


def test_sockets_of_one_group_share_one_subscription_until_the_last_one_closes(tenant_a, owner_a):
    cookie = logged_in(owner_a, "alpha.localhost")[1]
    name = f"asgi:{settings.REDIS_DB_CHANNELS}:__group__{realtime.user_group('t_alpha', owner_a.pk)}"
    client = redis.Redis.from_url(_address(0))

    def subscribers():
        return client.pubsub_numsub(name)[0][1]

    async def talk():
        sockets = [communicator("alpha.localhost", cookie) for _ in range(3)]
        for ws in sockets:
            assert (await ws.connect())[0]
            await ws.receive_json_from()
        counts = [subscribers()]
        for ws in sockets:
            await ws.disconnect()
            await asyncio.sleep(0.05)
            counts.append(subscribers())
        return counts

    # Another process's socket may hold the same group (a live server an earlier test left open):
    # this process's sockets add one subscription, and take it away with the last of them.
    before = subscribers()
    try:
        assert asyncio.run(talk()) == [before + 1, before + 1, before + 1, before]
    finally:
        client.close()


def test_layers_on_two_databases_of_one_server_do_not_hear_each_other():
    # Pub/sub ignores the database number; the layer's prefix carries it.
    ours, theirs = HubChannelLayer(hosts=[{"address": _address(4)}]), HubChannelLayer(hosts=[{"address": _address(5)}])

    async def talk():
        channel = await ours.new_channel()
        await ours.group_add("hub.t_alpha", channel)
        await theirs.group_send("hub.t_alpha", {"type": "hub.event", "from": "theirs"})
        await ours.group_send("hub.t_alpha", {"type": "hub.event", "from": "ours"})
        first = await asyncio.wait_for(ours.receive(channel), 2)
        try:
            second = await asyncio.wait_for(ours.receive(channel), 0.3)
        except TimeoutError:
            second = None
        await ours.flush()
        await theirs.flush()
        return first, second

    assert asyncio.run(talk()) == ({"type": "hub.event", "from": "ours"}, None)


def test_a_push_from_a_sync_caller_reaches_the_socket(tenant_a, owner_a):
    """Celery workers and views push through realtime.group_send, outside any event loop."""
    cookie = logged_in(owner_a, "alpha.localhost")[1]

    async def talk():
        ws = communicator("alpha.localhost", cookie)
        assert (await ws.connect())[0]
        await ws.receive_json_from()
        message = {"type": "hub.notification", "notification": NOTE, "unread": 1}
        sent = await asyncio.to_thread(realtime.group_send, realtime.user_group("t_alpha", owner_a.pk), message)
        got = await ws.receive_json_from(timeout=2)
        await ws.disconnect()
        return sent, got

    sent, got = asyncio.run(talk())
    assert sent
    assert got == {"type": "notification", "notification": NOTE, "unread": 1}


@pytest.fixture
def private_redis(settings):
    server = PrivateRedis()
    server.start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "apps.events.layers.HubChannelLayer",
            "CONFIG": {"hosts": [{"address": server.url}]},
        }
    }
    yield server
    server.remove()


def test_losing_redis_closes_the_sockets_and_the_layer_starts_afresh(private_redis, tenant_a, owner_a):
    cookie = logged_in(owner_a, "alpha.localhost")[1]

    async def talk():
        before = communicator("alpha.localhost", cookie)
        assert (await before.connect())[0]
        await before.receive_json_from()
        private_redis.stop()
        # Whatever is published until the layer subscribes again is lost: the page must reconnect.
        closed = await before.receive_output(timeout=5)
        local = get_channel_layer()._get_layer()
        forgotten = (dict(local.channels), dict(local.groups), dict(local.listeners))
        private_redis.start()
        after = communicator("alpha.localhost", cookie)
        assert (await after.connect())[0]
        await after.receive_json_from()
        await get_channel_layer().group_send(
            realtime.user_group("t_alpha", owner_a.pk), {"type": "hub.notification", "notification": NOTE, "unread": 1}
        )
        pushed = await after.receive_json_from(timeout=2)
        await after.disconnect()
        return closed, forgotten, pushed

    closed, forgotten, pushed = asyncio.run(talk())
    assert closed["type"] == "websocket.close" and closed["code"] == 1012
    assert forgotten == ({}, {}, {})
    assert pushed["type"] == "notification" and pushed["notification"]["title"] == "Hi"
