"""The dashboard's websocket /ws/: session-authenticated, members only, joined to the tenant's
and the member's groups, catching up on what it missed (tests/websockets.py opens them)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django_tenants.utils import tenant_context

from apps.core import realtime
from apps.notifications.models import Notification
from tests.conftest import committed
from tests.websockets import communicator, logged_in


def test_member_connects_and_is_greeted_with_the_unread_count(tenant_a, owner_a):
    cookie = logged_in(owner_a, "alpha.localhost")[1]

    async def talk():
        ws = communicator("alpha.localhost", cookie)
        connected, _ = await ws.connect()
        hello = await ws.receive_json_from() if connected else None
        await ws.disconnect()
        return connected, hello

    connected, hello = asyncio.run(talk())
    assert connected
    assert hello["type"] == "hello" and isinstance(hello["unread"], int)


@pytest.mark.parametrize("who", ["anonymous", "member of another tenant"])
def test_non_members_are_refused(tenant_a, owner_b, who):
    cookie = logged_in(owner_b, "alpha.localhost")[1] if who != "anonymous" else None

    async def talk():
        ws = communicator("alpha.localhost", cookie)
        connected, code = await ws.connect()
        return connected, code

    connected, code = asyncio.run(talk())
    assert not connected and code == 4403


def test_notifications_and_events_reach_the_right_sockets_only(tenant_a, tenant_b, owner_a, owner_b):
    cookie_a = logged_in(owner_a, "alpha.localhost")[1]
    cookie_b = logged_in(owner_b, "beta.localhost")[1]

    async def talk():
        layer = get_channel_layer()
        a, b = communicator("alpha.localhost", cookie_a), communicator("beta.localhost", cookie_b)
        assert (await a.connect())[0] and (await b.connect())[0]
        await a.receive_json_from()
        await b.receive_json_from()
        note = {
            "id": 999,
            "title": "Hello",
            "event_type": "member.joined",
            "url": "",
            "body": "",
            "created": "",
            "read": False,
        }
        await layer.group_send(
            realtime.user_group("t_alpha", owner_a.pk), {"type": "hub.notification", "notification": note, "unread": 3}
        )
        await layer.group_send(
            realtime.tenant_group("t_alpha"),
            {"type": "hub.event", "event": {"id": "e1", "type": "member.joined", "occurred_at": ""}},
        )
        got_a = [await a.receive_json_from(timeout=2), await a.receive_json_from(timeout=2)]
        nothing_for_b = await b.receive_nothing(timeout=0.3)
        # A member removed from the tenant loses the live connection at once.
        await layer.group_send(realtime.user_group("t_alpha", owner_a.pk), {"type": "hub.close"})
        closed = await a.receive_output(timeout=2)
        await b.disconnect()
        return got_a, nothing_for_b, closed

    got_a, nothing_for_b, closed = asyncio.run(talk())
    assert got_a[0] == {"type": "notification", "notification": got_a[0]["notification"], "unread": 3}
    assert got_a[0]["notification"]["title"] == "Hello"
    assert got_a[1]["type"] == "event" and got_a[1]["event"]["type"] == "member.joined"
    assert nothing_for_b
    assert closed["type"] == "websocket.close" and closed["code"] == 4403


def _delete(tenant, ids):
    with tenant_context(tenant):
        Notification.objects.filter(pk__in=ids).delete()


def test_sync_returns_what_was_missed_since_the_last_seen_id(tenant_a, owner_a):
    def make():
        with tenant_context(tenant_a):
            return [
                Notification.objects.create(user=owner_a, event_type="member.joined", title=f"missed {i}").pk
                for i in range(3)
            ]

    ids = committed(make)
    cookie = logged_in(owner_a, "alpha.localhost")[1]

    async def talk():
        ws = communicator("alpha.localhost", cookie)
        await ws.connect()
        hello = await ws.receive_json_from()
        await ws.send_json_to({"type": "sync", "after": ids[0]})
        sync = await ws.receive_json_from()
        await ws.disconnect()
        return hello, sync

    try:
        hello, sync = asyncio.run(talk())
    finally:
        committed(lambda: _delete(tenant_a, ids))
    assert hello["unread"] >= 3
    assert [n["title"] for n in sync["notifications"]] == ["missed 1", "missed 2"]


def test_signals_reach_the_tenants_sockets_as_a_topic_and_a_count(tenant_a, tenant_b, owner_a, owner_b):
    """Other apps' pages follow the socket (the live analytics events page): a hub.signal to a
    tenant's group reaches its sockets as {"type": "signal", "topic", "count"}, and no one else's."""
    cookie_a = logged_in(owner_a, "alpha.localhost")[1]
    cookie_b = logged_in(owner_b, "beta.localhost")[1]

    async def talk():
        a, b = communicator("alpha.localhost", cookie_a), communicator("beta.localhost", cookie_b)
        assert (await a.connect())[0] and (await b.connect())[0]
        await a.receive_json_from()
        await b.receive_json_from()
        message = {"type": "hub.signal", "topic": "analytics.events", "count": 2, "extra": "not passed on"}
        await get_channel_layer().group_send(realtime.tenant_group("t_alpha"), message)
        got = await a.receive_json_from(timeout=2)
        nothing_for_b = await b.receive_nothing(timeout=0.3)
        await a.disconnect()
        await b.disconnect()
        return got, nothing_for_b

    got, nothing_for_b = asyncio.run(talk())
    assert got == {"type": "signal", "topic": "analytics.events", "count": 2}
    assert nothing_for_b
