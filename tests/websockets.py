"""Opening the dashboard's websocket (/ws/) in tests: a real Channels stack (config.asgi's
application, the Redis channel layer) driven by WebsocketCommunicator.

Drive the connections under asyncio.run, not async_to_sync: under async_to_sync Channels would run
the consumer's database work on the test's own thread, whose connection is inside the test
transaction (and close_old_connections would close it). With asyncio.run it runs on asgiref's
shared sync thread with its own connection, as under a real ASGI server: it sees committed rows
only (the session tenants, and what committed() writes)."""

from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from tests.conftest import committed


def logged_in(user, host) -> tuple[Client, str]:
    """A client logged in as `user` on `host` (a committed session) and its session cookie."""
    client = Client(HTTP_HOST=host)
    committed(lambda: client.force_login(user))
    return client, f"sessionid={client.cookies['sessionid'].value}"


def communicator(host, cookie=None, *, origin="same", path="/ws/", subprotocols=None) -> WebsocketCommunicator:
    """A connection to `host`, sent from a page of `origin` ("same": the host itself; None: no Origin)."""
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", (f"http://{host}" if origin == "same" else origin).encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)


async def opened(host, cookie=None, **kwargs) -> WebsocketCommunicator:
    """An accepted connection whose hello has been read (the test fails otherwise)."""
    ws = communicator(host, cookie, **kwargs)
    connected, code = await ws.connect()
    assert connected, f"the websocket was refused ({code})"
    hello = await ws.receive_json_from()
    assert hello["type"] == "hello", hello
    return ws


async def handshake(host, cookie=None, **kwargs) -> tuple[bool, dict | int | None]:
    """(accepted, the first message) of a connection, or (False, the close code) if refused."""
    ws = communicator(host, cookie, **kwargs)
    connected, code = await ws.connect()
    if not connected:
        return False, code
    first = await ws.receive_json_from()
    await ws.disconnect()
    return True, first


async def closed_with(ws, timeout=2) -> int | None:
    """The code the server closed `ws` with, waiting at most `timeout` seconds (after any messages
    still on their way, which the test fails on)."""
    output = await ws.receive_output(timeout=timeout)
    assert output["type"] == "websocket.close", output
    return output.get("code")
