"""Websockets are routed by host, like HTTP, and their database work runs in the tenant's schema.

The connections are driven with asyncio.run, not async_to_sync: under async_to_sync Channels
would run the consumer's database work on the test's own thread, whose connection is inside the
test transaction (and close_old_connections would close it). With asyncio.run it runs on asgiref's
shared sync thread with its own connection, as under a real ASGI server: it sees committed rows
only (the session tenants, and sessions made by committed()).
"""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from tests.conftest import committed


def whoami(host, cookie=None):
    """(accepted, first message) of a connection to /ws/whoami/ on `host`."""
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if cookie:
        headers.append((b"cookie", cookie.encode()))

    async def talk():
        communicator = WebsocketCommunicator(application, "/ws/whoami/", headers=headers)
        connected, _ = await communicator.connect()
        reply = await communicator.receive_json_from() if connected else None
        await communicator.disconnect()
        return connected, reply

    return asyncio.run(talk())


def logged_in_client(user, host):
    client = Client(HTTP_HOST=host)
    committed(lambda: client.force_login(user))
    return client


@pytest.mark.django_db(transaction=False)
def test_each_tenant_host_reports_its_own_tenant_and_schema(tenant_a, tenant_b):
    # One after the other, and back: the shared sync thread must not keep the previous schema.
    for host, slug, schema in [
        ("alpha.localhost", "alpha", "t_alpha"),
        ("beta.localhost", "beta", "t_beta"),
        ("alpha.localhost", "alpha", "t_alpha"),
    ]:
        accepted, reply = whoami(host)
        assert accepted
        assert reply == {"tenant": slug, "schema": schema, "user": None}


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("host", ["nobody.localhost", "localhost"])
def test_unknown_and_public_hosts_are_refused(tenant_a, host):
    accepted, reply = whoami(host)
    assert not accepted
    assert reply is None


@pytest.mark.django_db(transaction=False)
def test_session_cookie_authenticates_the_websocket(tenant_a, owner_a):
    client = logged_in_client(owner_a, "alpha.localhost")
    accepted, reply = whoami("alpha.localhost", f"sessionid={client.cookies['sessionid'].value}")
    assert accepted
    assert reply["user"] == owner_a.email
    assert reply["schema"] == "t_alpha"


@pytest.mark.django_db(transaction=False)
def test_logging_out_ends_websocket_authentication(tenant_a, tenant_b, owner_a):
    client = logged_in_client(owner_a, "alpha.localhost")
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    whoami("beta.localhost")  # leaves the shared sync thread in t_beta
    assert whoami("alpha.localhost", cookie)[1]["user"] == owner_a.email

    committed(lambda: client.post("/accounts/logout/"))

    whoami("beta.localhost")
    assert whoami("alpha.localhost", cookie)[1]["user"] is None
