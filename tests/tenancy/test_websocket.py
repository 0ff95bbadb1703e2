import asyncio
import threading

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client

from config.asgi import application


def _whoami(host, cookie=None):
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


def _committed_login(user, host):
    out = {}
    def run():
        c = Client(HTTP_HOST=host)
        c.force_login(user)
        out["c"] = c
        connection.close()
    t = threading.Thread(target=run); t.start(); t.join()
    return out["c"]


@pytest.mark.django_db(transaction=False)
def test_probe(tenant_a, tenant_b, owner_a):
    print(_whoami("alpha.localhost"))
    print(_whoami("beta.localhost"))
    c = _committed_login(owner_a, "alpha.localhost")
    cookie = f"sessionid={c.cookies['sessionid'].value}"
    print(_whoami("alpha.localhost", cookie))
    print(_whoami("beta.localhost", cookie))
    print(_whoami("localhost", cookie))
    print(_whoami("nobody.localhost", cookie))
    import redis
    r = redis.Redis(db=11)
    print(r.keys("*"))
    def logout():
        c.post("/accounts/logout/")
        connection.close()
    t = threading.Thread(target=logout); t.start(); t.join()
    print(r.keys("*"))
    print("after logout", _whoami("alpha.localhost", cookie))
