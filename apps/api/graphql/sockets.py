"""/graphql/ as a websocket: the gateway's subscriptions over graphql-transport-ws (strawberry's
Channels consumer), on each tenant's host beside the dashboards' /ws/.

- Tenant: the host's (apps.tenancy.channels.TenantWebsocketMiddleware), as for HTTP.
- Authentication, at `connection_init`: an API key in its payload,
  `{"Authorization": "Bearer hub_…"}`, or else the session's cookie (a page of the same host:
  the same admission as /ws/, second factor included). A program that sends no Origin is let
  through without its cookies (apps.tenancy.channels), so only its key can authenticate it.
  Refused: closed with 4401 (no or a bad key, no session) or 4403 (not a member), the reason in words.
- Each `subscribe` goes through the HTTP gateway's checks (views.checked: validation, depth,
  cost) and is charged to the caller's rate limit and usage, as a query is; its fields check
  their scope and role (apps.core.graphql.needs). Only subscriptions run here (queries and
  mutations go over HTTP), at most HUB_GRAPHQL_SUBSCRIPTIONS_MAX at once per connection.
- Every error has a code in `extensions.code`, as over HTTP.
- The socket closes (4403) when its session ends or its member leaves the organisation, as /ws/ does.
"""

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from graphql import GraphQLError, OperationType
from rest_framework.exceptions import AuthenticationFailed
from strawberry.channels import GraphQLWSConsumer
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types.unset import UNSET

from apps.core import realtime
from apps.core.graphql import Context
from apps.identity.middleware import socket_membership
from apps.identity.sessions import session_tag
from apps.tenancy.channels import tenant_database_sync_to_async

from ..authentication import key_authenticate
from ..throttling import MeteringThrottle
from .schema import schema
from .views import Refused, _error, _format, charge, checked


class SocketRefused(Exception):
    """A connection refused at connection_init: closed with `code` and `reason` (in words)."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass
class Caller:
    """What the gateway reads of a DRF request (`user`, `auth`, `_request.tenant`), for a socket."""

    user: Any
    auth: Any
    _request: Any


@dataclass
class SocketContext(Context):
    connection_params: dict | None = None


@tenant_database_sync_to_async
def _key(tenant, raw: str, ip: str | None):
    return key_authenticate(raw, tenant=tenant, ip=ip)


@tenant_database_sync_to_async
def _session_member(tenant, user, session):
    return socket_membership(session=session, user=user, tenant=tenant)


@tenant_database_sync_to_async
def _charge(tenant, caller: Caller, cost) -> None:
    charge(MeteringThrottle(), caller, cost)


def _coded(error: GraphQLError) -> GraphQLError:
    """`error` with the code and message the HTTP gateway would give it."""
    out = _format(error)
    return GraphQLError(out["message"], nodes=error.nodes, path=error.path, extensions=out["extensions"])


class Handler(BaseGraphQLTransportWSHandler):
    async def handle_connection_init(self, message) -> None:
        try:
            await super().handle_connection_init(message)
        except SocketRefused as refusal:
            await self.websocket.close(code=refusal.code, reason=refusal.reason)

    async def handle_subscribe(self, message) -> None:
        most = self.max_subscriptions_per_connection
        if self.connection_acknowledged and most is not None and len(self.operations) >= most:
            what = f"At most {most} subscriptions run at once on one connection; complete one first."
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [_error(what, "TOO_MANY_SUBSCRIPTIONS")]}
            )
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation) -> None:
        try:
            if not isinstance(operation.query, str) or not isinstance(operation.variables, dict | None):
                raise Refused(400, "BAD_REQUEST", "Send a query, and variables as a JSON object.")
            op, cost = checked(operation.query, operation.variables, operation.operation_name)
            if op.operation != OperationType.SUBSCRIPTION:
                raise Refused(
                    400, "BAD_REQUEST", "Only subscriptions run over the websocket; send queries and "
                    "mutations to /graphql/ over HTTP.",
                )  # fmt: skip
            await _charge(self.context.tenant, self.context.request, cost)
        except Refused as refusal:
            await operation.send_operation_message(
                {
                    "id": operation.id,
                    "type": "error",
                    "payload": [_error(refusal.message, refusal.code, **refusal.extensions)],
                }
            )
            return
        await super().run_operation(operation)

    async def _send_result_stream(self, operation, result_source) -> None:
        async def coded():
            async for result in result_source:
                if getattr(result, "errors", None):
                    result.errors = [_coded(error) for error in result.errors]
                yield result

        await super()._send_result_stream(operation, coded())


class GraphQLSocket(GraphQLWSConsumer):
    channel_layer_alias = None  # no channel of its own: it listens to groups (apps.events.layers)
    graphql_transport_ws_handler_class = Handler

    def __init__(self):
        super().__init__(
            schema(),
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=dt.timedelta(seconds=10),
            max_subscriptions_per_connection=settings.HUB_GRAPHQL_SUBSCRIPTIONS_MAX,
        )
        self.my_groups = None

    async def get_context(self, request, response) -> SocketContext:
        return SocketContext(request=None, http=None, tenant=self.scope["tenant"], membership=None)

    async def on_ws_connect(self, context: SocketContext):
        tenant = context.tenant
        header = (context.connection_params or {}).get("Authorization")
        session = self.scope.get("session")
        if header is not None:
            scheme, _, raw = str(header).partition(" ")
            if scheme.lower() != "bearer":
                raise SocketRefused(4401, "Send the API key as Authorization: Bearer hub_… in connection_init.")
            client = self.scope.get("client") or (None,)
            try:
                auth, membership = await _key(tenant, raw, client[0])
            except AuthenticationFailed as failed:
                raise SocketRefused(4401, str(failed.detail)) from None
            user = membership.user
        else:
            user, auth = self.scope.get("user"), None
            if user is None or not user.is_authenticated:
                raise SocketRefused(
                    4401, "Sign in, or send an API key (Authorization: Bearer hub_…) in connection_init."
                )
            membership = await _session_member(tenant, user, session)
            if membership is None:
                raise SocketRefused(
                    4403, "You are not a member of this organisation (or your sign-in is not complete)."
                )
        http = SimpleNamespace(tenant=tenant, membership=membership)
        context.request, context.http, context.membership = Caller(user, auth, http), http, membership
        self.session_tag = session_tag(session.session_key) if auth is None else None
        # The end of the session, or of the membership, closes the socket (as /ws/).
        self.my_groups = [realtime.user_group(tenant.schema_name, user.pk)]
        await get_channel_layer().listen(self.my_groups, self._hear)
        return UNSET

    async def _hear(self, message) -> None:
        kind = message.get("type")
        if kind == "hub.close" or (kind == "hub.sessions_ended" and self.session_tag in message.get("sessions", ())):
            await self.shut(4403, "Your session or membership ended.")

    async def shut(self, code: int, reason: str) -> None:
        await self._unlisten()
        self.message_queue.put_nowait({"message": None, "disconnected": True})  # its subscriptions end
        await self.close(code=code, reason=reason)

    async def _unlisten(self) -> None:
        groups, self.my_groups = self.my_groups, None
        if groups:
            try:
                await get_channel_layer().unlisten(groups, self._hear)
            except Exception:  # noqa: BLE001, S110 - the layer may be the thing that went away
                pass

    async def disconnect(self, code) -> None:
        await self._unlisten()
        await super().disconnect(code)
