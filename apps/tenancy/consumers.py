from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connection

from .channels import tenant_database_sync_to_async


@tenant_database_sync_to_async
def _schema_in_use(tenant):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


class WhoAmIConsumer(AsyncJsonWebsocketConsumer):
    """Answers a connection with the tenant it was routed to and the schema its database work
    runs in: the smallest proof that websockets are tenant-aware."""

    channel_layer_alias = None  # it joins no group: no channel-layer connection per socket

    async def connect(self):
        await self.accept()
        tenant = self.scope["tenant"]
        user = self.scope.get("user")
        await self.send_json(
            {
                "tenant": tenant.slug,
                "schema": await _schema_in_use(tenant),
                "user": user.email if user is not None and user.is_authenticated else None,
            }
        )
