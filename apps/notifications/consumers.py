"""The dashboard's websocket, /ws/: live notifications, unread count and tenant activity."""

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

from apps.core import metrics, realtime, tracing
from apps.identity.middleware import socket_membership
from apps.identity.sessions import session_tag
from apps.tenancy.channels import tenant_database_sync_to_async

from . import selectors
from .services import notification_as_dict


@tenant_database_sync_to_async
def _admitted(tenant, user, session) -> bool:
    """A member of the tenant whose session may reach the tenant's pages: the same second-factor
    rule as for HTTP (a factor pending, or the tenant's "second factor required" unmet: no socket)."""
    return socket_membership(session=session, user=user, tenant=tenant) is not None


def _sync(tenant, user, after_id: int | None) -> dict:
    missed = selectors.notification_list(user=user).filter(pk__gt=after_id or 0)[:50] if after_id is not None else []
    return {
        "type": "sync",
        "unread": selectors.unread_count(user_id=user.pk),
        "notifications": [notification_as_dict(n) for n in reversed(list(missed))],
    }


_catch_up = tenant_database_sync_to_async(_sync)


@tenant_database_sync_to_async
def _greeting(tenant, user, session) -> dict | None:
    """The hello, or None when the session ended meanwhile: between the handshake and the moment
    the socket followed its groups, the message that closes a session's sockets would miss it."""
    if not session.exists(session.session_key):
        return None
    return _sync(tenant, user, None) | {"type": "hello"}


class HubConsumer(AsyncJsonWebsocketConsumer):
    """Authenticated by the session cookie; only members of the host's tenant whose session may
    reach the tenant's pages get in. Joins the tenant's group (activity) and the member's own
    group (notifications, unread count, and the end of its session, which closes it).

    It listens to its groups through the channel layer (apps.events.layers) instead of
    having a channel of its own: no Redis subscription, queue or waiting task per socket, and no
    Redis round trip to open one when its process already follows its groups."""

    channel_layer_alias = None  # no channel per socket: the layer calls _hear() itself

    async def connect(self):
        tenant, user, session = self.scope["tenant"], self.scope.get("user"), self.scope.get("session")
        if user is None or not user.is_authenticated or not await _admitted(tenant, user, session):
            await self.close(code=4403)  # before accept: the handshake is answered with 403
            return
        self.tenant, self.user, self.layer = tenant, user, get_channel_layer()
        self.session_tag = session_tag(session.session_key)
        self.my_groups = [realtime.tenant_group(tenant.schema_name), realtime.user_group(tenant.schema_name, user.pk)]
        await self.accept()
        self.counted = True
        metrics.websocket_connects.inc()
        metrics.websocket_connections.inc()
        # Then hello: the page asks for what it missed after hello, so nothing falls in between.
        await self.layer.listen(self.my_groups, self._hear)
        hello = await _greeting(tenant, user, session)
        if hello is None:
            await self.shut(4403)
        else:
            await self.send_json(hello)

    async def disconnect(self, code):
        if getattr(self, "counted", False):
            self.counted = False
            metrics.websocket_connections.dec()
        await self._unlisten()

    async def shut(self, code):
        """Closes the socket, which hears nothing more from now on."""
        await self._unlisten()
        await self.close(code=code)

    async def _unlisten(self):
        groups, self.my_groups = getattr(self, "my_groups", None), None
        if groups:
            try:
                await self.layer.unlisten(groups, self._hear)
            except Exception:  # noqa: BLE001, S110 - the layer may be the thing that went away
                pass

    async def _hear(self, message):
        """The layer's call for each message to the socket's groups (a message already on its way
        when the socket was shut is dropped)."""
        if self.my_groups is not None:
            await self.dispatch(message)

    async def dispatch(self, message):
        # Channels' dispatch first closes stale database connections on the sync thread: one
        # thread hop per message, so a push to 10,000 sockets queued 10,000 hops (seconds). The
        # pushes here touch no database, and the database work goes through
        # tenant_database_sync_to_async, which closes stale connections on its own thread.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        if content.get("type") == "sync":
            after = content.get("after")
            after = after if isinstance(after, int) and after >= 0 else 0
            await self.send_json(await _catch_up(self.tenant, self.user, after))

    async def _send_once_encoded(self, message, content):
        """Sends `content` as JSON. The layer hands one message dict to every socket of a group,
        so the text is encoded once per message, not once per socket (10,000 for a big tenant)."""
        text = message.get("_text")
        if text is None:
            if message.get("traceparent"):  # tracing on where it was pushed: one span per message here
                with tracing.continuing(message["traceparent"], f"ws deliver {message['type']}"):
                    text = message["_text"] = await self.encode_json(content)
            else:
                text = message["_text"] = await self.encode_json(content)
        await self.send(text_data=text)

    async def hub_notification(self, message):
        content = {"type": "notification", "notification": message["notification"], "unread": message["unread"]}
        await self._send_once_encoded(message, content)

    async def hub_unread(self, message):
        await self._send_once_encoded(message, {"type": "unread", "unread": message["unread"]})

    async def hub_event(self, message):
        await self._send_once_encoded(message, {"type": "event", "event": message["event"]})

    async def hub_signal(self, message):
        # A nudge for pages that show something of an app (the live events page, dashboards): a
        # topic or name, and a count, never data; the page reads what it shows over HTTP, as its viewer.
        nudge = {key: message[key] for key in ("topic", "name", "count") if key in message}
        await self._send_once_encoded(message, {"type": "signal", **nudge})

    async def hub_close(self, message):
        await self.shut(4403)

    async def hub_sessions_ended(self, message):
        # Sent to the member's group when sessions end (apps.identity.sessions): close if ours did.
        if self.session_tag in message["sessions"]:
            await self.shut(4403)

    async def channel_layer_lost(self, message):
        # Redis went away (apps.events.layers): pushes made meanwhile are lost. The page
        # reconnects (1012: service restart) and asks for what it missed.
        await self.shut(1012)
