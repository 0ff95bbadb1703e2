"""Tenant routing for websockets: the Host header picks the tenant, as for HTTP."""

from channels.db import database_sync_to_async
from django.db import close_old_connections

from .context import activate
from .routing import routes


def _hostname(scope):
    for name, value in scope.get("headers", []):
        if name == b"host":
            return value.decode("latin-1").split(":")[0].lower()
    return ""


class TenantWebsocketMiddleware:
    """Sets scope["tenant"]; refuses the connection when the host names no active tenant."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        tenant = await database_sync_to_async(routes.tenant_for_host)(_hostname(scope))
        if tenant is None or tenant.is_public or not tenant.is_active:
            await receive()  # websocket.connect
            # Closing before accepting makes the server answer the handshake with 403.
            await send({"type": "websocket.close", "code": 4403})
            return None
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
