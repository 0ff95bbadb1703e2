"""Websockets are routed like HTTP: the Host header picks the tenant, and only a page of that
very host may open one (the Origin check)."""

from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from django.db import close_old_connections

from .context import activate
from .routing import routes

DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _hostname(scope):
    return _header(scope, b"host").split(":")[0].lower()


async def refuse(scope, receive, send, code: int = 4403):
    """Refuses a websocket: closing before accepting makes the server answer the handshake with 403."""
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": code})


def same_origin(origin: str, host: str) -> bool:
    """Whether `origin` (a request's Origin header) is the site at `host` (its Host header): same
    host name and port, a missing port being the default of the origin's scheme."""
    try:
        page, server = urlsplit(origin), urlsplit(f"//{host}")
        if page.scheme not in DEFAULT_PORTS or not page.hostname or not server.hostname:
            return False
        default = DEFAULT_PORTS[page.scheme]
        return (page.hostname, page.port or default) == (server.hostname, server.port or default)
    except ValueError:  # a malformed port
        return False


class SameOriginWebsocketMiddleware:
    """Lets a websocket through only when its Origin is the host it connects to: a page of one
    tenant (or any other site) cannot open a socket on another tenant with the visitor's cookie.
    No Origin (not a browser page) is refused too, except on the `cookieless` paths (GraphQL's
    /graphql/, which programs open with an API key): there it goes on without its cookies, so
    that only what it sends itself (a key) can authenticate it. Browsers always send an Origin."""

    def __init__(self, inner, *, cookieless: tuple[str, ...] = ()):
        self.inner, self.cookieless = inner, frozenset(cookieless)

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        if not origin and scope.get("path") in self.cookieless:
            headers = [(key, value) for key, value in scope.get("headers", []) if key != b"cookie"]
            return await self.inner(dict(scope, headers=headers), receive, send)
        if not same_origin(origin, _header(scope, b"host")):
            return await refuse(scope, receive, send)
        return await self.inner(scope, receive, send)


class TenantWebsocketMiddleware:
    """Sets scope["tenant"]; refuses the connection when the host names no active tenant."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        tenant = await database_sync_to_async(routes.tenant_for_host)(_hostname(scope))
        if tenant is None or tenant.is_public or not tenant.is_active:
            return await refuse(scope, receive, send)
        return await self.inner(dict(scope, tenant=tenant), receive, send)


def tenant_database_sync_to_async(func):
    """database_sync_to_async that runs `func(scope_tenant, ...)` inside the tenant's schema.

    django-tenants keeps the schema on the thread's connection, and Channels runs database work
    in a thread pool, so each call enters the tenant's schema itself.
    """

    def run(tenant, *args, **kwargs):
        close_old_connections()
        activate(tenant)
        return func(tenant, *args, **kwargs)

    return database_sync_to_async(run)
