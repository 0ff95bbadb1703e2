"""GraphQL subscriptions over the websocket /graphql/ (graphql-transport-ws): a real Channels stack
(config.asgi's application, the Redis channel layer) driven by WebsocketCommunicator, events
published and dispatched as the worker does (tests/websockets.py says why asyncio.run)."""

import asyncio
import uuid

import pytest
from django_tenants.utils import schema_context, tenant_context

from apps.api.models import ApiKey
from apps.events.services import event_publish, events_dispatch_new
from tests.api.conftest import make_key
from tests.conftest import committed
from tests.events.fixtures import add_member
from tests.websockets import communicator, logged_in

PROTOCOL = ["graphql-transport-ws"]
EVENTS = "subscription ($types: [String!]) { events(types: $types) { id type occurredAt summary url data } }"


def publish(tenant, name: str) -> None:
    """A content.folder_created event of `tenant`, committed and dispatched (as the worker does)."""

    def work():
        with tenant_context(tenant):
            event_publish(
                event_type="content.folder_created", payload={"folder_id": 424242, "name": name}, tenant=tenant
            )
            events_dispatch_new()

    committed(work)


@pytest.fixture
def keys(tenant_a, tenant_b):
    """Committed API keys (a socket's thread must see them): make(tenant, scopes) -> raw key."""
    made = []

    def make(tenant, scope_list=None):
        key, raw = committed(lambda: make_key(tenant, scope_list=scope_list, name="socket key"))
        made.append((tenant, key.pk))
        return raw

    yield make

    def remove():
        for tenant, pk in made:
            with schema_context(tenant.schema_name):
                ApiKey.objects.filter(pk=pk).delete()

    committed(remove)


async def opened(host, *, key=None, cookie=None, origin=None):
    """A socket to `host`'s /graphql/ after connection_init: (socket, the server's answer)."""
    ws = communicator(host, cookie, origin=origin, path="/graphql/", subprotocols=PROTOCOL)
    connected, code = await ws.connect()
    assert connected, f"the handshake was refused ({code})"
    await ws.send_json_to({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"} if key else {}})
    return ws, await ws.receive_output(timeout=3)


async def subscribe(ws, id="1", query=EVENTS, variables=None):
    await ws.send_json_to({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})


def test_a_subscriber_hears_its_tenants_events_and_another_tenants_does_not(tenant_a, tenant_b, keys):
    key_a, key_b = keys(tenant_a), keys(tenant_b)
    name = f"live-gql-{uuid.uuid4().hex[:6]}"

    async def talk():
        a, ack_a = await opened("alpha.localhost", key=key_a)
        b, ack_b = await opened("beta.localhost", key=key_b)
        assert ack_a["type"] == ack_b["type"] == "websocket.send", (ack_a, ack_b)
        await subscribe(a, variables={"types": ["content.folder_created"]})
        await subscribe(b)
        await asyncio.sleep(0.3)  # the subscriptions follow the tenants' groups
        await asyncio.to_thread(publish, tenant_a, name)
        heard = await a.receive_json_from(timeout=5)
        nothing_for_b = await b.receive_nothing(timeout=0.5)
        await a.send_json_to({"id": "1", "type": "complete"})
        await a.disconnect()
        await b.disconnect()
        return heard, nothing_for_b

    heard, nothing_for_b = asyncio.run(talk())
    assert heard["type"] == "next" and heard["id"] == "1", heard
    event = heard["payload"]["data"]["events"]
    assert event["type"] == "content.folder_created"
    assert event["data"] == {"folder_id": 424242, "name": name}
    assert event["summary"] and event["occurredAt"] and event["id"]
    assert nothing_for_b


def test_a_key_without_the_webhooks_scope_is_refused(tenant_a, keys):
    key = keys(tenant_a, scope_list=["content:read", "events:read"])

    async def talk():
        ws, _ack = await opened("alpha.localhost", key=key)
        await subscribe(ws)
        answer = await ws.receive_json_from(timeout=3)
        await ws.disconnect()
        return answer

    answer = asyncio.run(talk())
    assert answer["type"] in ("next", "error"), answer
    errors = answer["payload"]["errors"] if answer["type"] == "next" else answer["payload"]
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], answer
    assert "webhooks:read" in errors[0]["message"]


def test_an_unknown_event_type_is_refused_in_words(tenant_a, keys):
    key = keys(tenant_a)

    async def talk():
        ws, _ack = await opened("alpha.localhost", key=key)
        await subscribe(ws, variables={"types": ["content.folder_created", "no.such_thing"]})
        answer = await ws.receive_json_from(timeout=3)
        await ws.disconnect()
        return answer

    answer = asyncio.run(talk())
    errors = answer["payload"]["errors"] if answer["type"] == "next" else answer["payload"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", answer
    assert errors[0]["extensions"]["errors"][0]["field"] == "types"
    assert "no.such_thing" in errors[0]["extensions"]["errors"][0]["message"]


def test_another_tenants_key_and_no_credentials_are_refused(tenant_a, tenant_b, keys):
    key_b = keys(tenant_b)

    async def talk():
        out = []
        for kwargs in ({"key": key_b}, {}, {"key": "hub_nonsense"}):
            ws, answer = await opened("alpha.localhost", **kwargs)
            out.append(answer)
            await ws.disconnect()
        return out

    for answer in asyncio.run(talk()):
        assert answer["type"] == "websocket.close" and answer["code"] == 4401, answer
        assert answer.get("reason"), answer  # in words


def test_a_page_of_another_site_is_refused_and_a_program_gets_no_session(tenant_a, owner_a):
    cookie = logged_in(owner_a, "alpha.localhost")[1]

    async def talk():
        ws = communicator(
            "alpha.localhost", cookie, origin="http://evil.example", path="/graphql/", subprotocols=PROTOCOL
        )
        other_site = await ws.connect()
        # No Origin (a program): its cookie is not used, so it must send a key.
        _ws, answer = await opened("alpha.localhost", cookie=cookie, origin=None)
        await _ws.disconnect()
        return other_site, answer

    other_site, answer = asyncio.run(talk())
    assert other_site == (False, 4403)
    assert answer["type"] == "websocket.close" and answer["code"] == 4401, answer


def test_queries_go_over_http_and_subscriptions_are_limited_per_connection(tenant_a, keys, settings):
    settings.HUB_GRAPHQL_SUBSCRIPTIONS_MAX = 2
    key = keys(tenant_a)

    async def talk():
        ws, _ack = await opened("alpha.localhost", key=key)
        await subscribe(ws, id="q", query="{ eventTypes { name } }")
        query = await ws.receive_json_from(timeout=3)
        await subscribe(ws, id="bad", query="subscription { events { nope } }")
        invalid = await ws.receive_json_from(timeout=3)
        await subscribe(ws, id="1")
        await subscribe(ws, id="2")
        await subscribe(ws, id="3")
        third = await ws.receive_json_from(timeout=3)
        await ws.disconnect()
        return query, invalid, third

    query, invalid, third = asyncio.run(talk())
    assert query["type"] == "error" and query["payload"][0]["extensions"]["code"] == "BAD_REQUEST", query
    assert invalid["type"] == "error" and invalid["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert third == {
        "id": "3", "type": "error", "payload": [{
            "message": "At most 2 subscriptions run at once on one connection; complete one first.",
            "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"},
        }],
    }  # fmt: skip


def test_a_viewer_is_refused_and_an_admins_session_hears_only_the_types_asked(tenant_a):
    # Events carry their data: the subscription asks what webhooks (REST's way to the payloads) ask,
    # settings.change (admins and owners), not tenant.view as the event types' schema does.
    def member(role):
        return committed(lambda: add_member(tenant_a, f"{role}-{uuid.uuid4().hex[:6]}@example.com", role=role))

    viewer_cookie = logged_in(member("viewer").user, "alpha.localhost")[1]
    admin_cookie = logged_in(member("admin").user, "alpha.localhost")[1]

    async def talk():
        viewer, _ack = await opened("alpha.localhost", cookie=viewer_cookie, origin="same")
        await subscribe(viewer, id="v")
        refused = await viewer.receive_json_from(timeout=3)
        ws, ack = await opened("alpha.localhost", cookie=admin_cookie, origin="same")
        await subscribe(ws, id="joined", variables={"types": ["member.joined"]})
        await subscribe(ws, id="folders", variables={"types": ["content.folder_created"]})
        await asyncio.sleep(0.3)
        await asyncio.to_thread(publish, tenant_a, "for-the-admin")
        heard = await ws.receive_json_from(timeout=5)
        nothing_more = await ws.receive_nothing(timeout=0.5)
        nothing_for_viewer = await viewer.receive_nothing(timeout=0.1)
        await ws.disconnect()
        await viewer.disconnect()
        return refused, ack, heard, nothing_more, nothing_for_viewer

    refused, ack, heard, nothing_more, nothing_for_viewer = asyncio.run(talk())
    assert refused["id"] == "v" and refused["type"] in ("next", "error"), refused
    errors = refused["payload"]["errors"] if refused["type"] == "next" else refused["payload"]
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], refused
    assert errors[0]["message"] == (
        "Your role (viewer) does not allow this: it takes “Change the organisation's settings” (admin or above)."
    )
    assert nothing_for_viewer
    assert ack["type"] == "websocket.send" and '"connection_ack"' in ack["text"], ack
    assert heard["id"] == "folders" and heard["payload"]["data"]["events"]["data"]["name"] == "for-the-admin", heard
    assert nothing_more  # the member.joined subscription heard nothing
