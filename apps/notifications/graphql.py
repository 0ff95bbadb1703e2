"""notifications' GraphQL types (apps.api.graphql): webhook endpoints, read only, over the
selectors of /api/v1/notifications/webhooks/ (api/views.py), with the same scope and permission
(admins, `webhooks:read`). Their secrets are never shown here.

And the subscription `events`: the tenant's domain events as they are dispatched, heard from the
same fan-out that pushes them to the dashboards (live_event sends each to the tenant's group on the
channel layer; a subscription listens to that group, it never polls the database). Over the
gateway's websocket (apps.api.graphql.sockets). Events carry their data (payloads), which the REST
API gives only through webhooks and their deliveries: the subscription asks what those ask
(`webhooks:read`, settings.change: admins and owners), not what the event types' schema asks."""

import asyncio
from collections.abc import AsyncGenerator, Iterable
from datetime import datetime

import strawberry
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from graphql import GraphQLError
from strawberry import Info, relay
from strawberry.scalars import JSON

from apps.core import realtime
from apps.core.graphql import context, filtered_by_choice, needs, pk_of
from apps.core.registry import registry

from .models import WebhookDelivery as WebhookDeliveryModel
from .selectors import delivery_log, endpoint_list

READ = needs("webhooks", "settings.change")


@strawberry.type(description="A webhook endpoint: where the organisation's events are sent.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    event_types: list[str] = strawberry.field(description="Event type names; empty: every type.")
    is_active: bool
    disabled_at: datetime | None
    disabled_reason: str
    failing_since: datetime | None
    created: datetime


@strawberry.type(description="One message to a webhook endpoint and how its sending went.")
class WebhookDelivery:
    id: strawberry.ID
    event_type: str
    status: str = strawberry.field(description="pending, succeeded or failed.")
    attempt_count: int
    next_attempt_at: datetime | None
    created: datetime
    completed_at: datetime | None
    is_test: bool
    is_replay: bool

    @strawberry.field(description="The webhook-id header it was sent with (the same on every retry and resend).")
    def webhook_id(self: WebhookDeliveryModel) -> str:
        return self.message_id

    @strawberry.field
    def endpoint_id(self: WebhookDeliveryModel) -> strawberry.ID:
        return strawberry.ID(str(self.endpoint_id))


@strawberry.type
class WebhooksQuery:
    @relay.connection(relay.ListConnection[WebhookEndpoint], permission_classes=[READ])
    def webhook_endpoints(self, info: Info) -> Iterable[WebhookEndpoint]:
        """The webhook endpoints, newest first (as GET /api/v1/notifications/webhooks/)."""
        return endpoint_list().order_by("-id")

    @strawberry.field(permission_classes=[READ])
    def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint | None:
        """One endpoint (null: no such endpoint here)."""
        return endpoint_list().filter(pk=pk_of(id)).first()

    @relay.connection(relay.ListConnection[WebhookDelivery], permission_classes=[READ])
    def webhook_deliveries(
        self,
        info: Info,
        endpoint: strawberry.ID | None = None,
        status: str | None = None,
        event_type: str | None = None,
    ) -> Iterable[WebhookDelivery]:
        """The delivery log, newest first (as GET /api/v1/notifications/deliveries/): of one endpoint,
        one status, one event type if given."""
        rows = filtered_by_choice(delivery_log(), "status", status, WebhookDeliveryModel.Status)
        if endpoint is not None:
            rows = rows.filter(endpoint_id=pk_of(endpoint))
        if event_type is not None:
            rows = rows.filter(event_type=event_type)
        return rows


ROOT_FIELDS = ("webhookEndpoints", "webhookEndpoint", "webhookDeliveries")

# Events a subscriber has not taken yet; one that falls this far behind is ended (and told why).
BACKLOG = 1000
TYPES_MAX = 100


@strawberry.type(description="A domain event of the organisation, as it happened.")
class Event:
    id: strawberry.ID
    type: str = strawberry.field(description="The event type's name, e.g. member.joined (see eventTypes).")
    occurred_at: datetime
    summary: str = strawberry.field(description="What happened, in words: the activity feed's sentence.")
    url: str = strawberry.field(description="The address of the page of what it is about (may be empty).")
    data: JSON = strawberry.field(description="The event's data, as its event type's payloadSchema describes.")

    @classmethod
    def of(cls, message: dict) -> "Event":
        """The event of a live_event message (apps.notifications.services)."""
        event = message["event"]
        return cls(
            id=strawberry.ID(event["id"]), type=event["type"], occurred_at=datetime.fromisoformat(event["occurred_at"]),
            summary=event["text"], url=event["url"], data=message.get("data") or {},
        )  # fmt: skip


def _wanted(types: list[str] | None) -> frozenset[str]:
    """The event types asked for (empty: every type), or BAD_USER_INPUT naming `types`."""
    if types is None:
        return frozenset()
    if not types or len(types) > TYPES_MAX:
        raise ValidationError({"types": [f"Name between 1 and {TYPES_MAX} event types, or leave `types` out."]})
    unknown = sorted(set(types) - set(registry["event_types"]))
    if unknown:
        raise ValidationError(
            {"types": [f"There is no event type {', '.join(unknown)}; eventTypes lists the event types."]}
        )
    return frozenset(types)


@strawberry.type
class EventsSubscription:
    @strawberry.subscription(permission_classes=[READ])
    async def events(self, info: Info, types: list[str] | None = None) -> AsyncGenerator[Event, None]:
        """The organisation's events as they happen (of `types` only, if given), from now on: none
        of the past, and none missed while the connection is down."""
        wanted = _wanted(types)
        group = realtime.tenant_group(context(info).tenant.schema_name)
        heard: asyncio.Queue = asyncio.Queue()
        stop: list[str] = []

        async def hear(message):
            if stop:
                return
            if message.get("type") == "channel_layer.lost":
                stop.append("The server lost its connection to the events; subscribe again.")
            elif message.get("type") != "hub.event" or (wanted and message["event"]["type"] not in wanted):
                return
            elif heard.qsize() >= BACKLOG:
                stop.append(f"More than {BACKLOG} events were waiting for this subscription; subscribe again.")
            else:
                heard.put_nowait(message)
                return
            heard.put_nowait(None)

        layer = get_channel_layer()
        await layer.listen([group], hear)
        try:
            while (message := await heard.get()) is not None:
                yield Event.of(message)
            raise GraphQLError(stop[0], extensions={"code": "SUBSCRIPTION_ENDED"})
        finally:
            await layer.unlisten([group], hear)


SUBSCRIPTION_FIELDS = ("events",)
