"""notifications' GraphQL types (apps.api.graphql): webhook endpoints, read only, over the
selectors of /api/v1/notifications/webhooks/ (api/views.py), with the same scope and permission
(admins, `webhooks:read`). Their secrets are never shown here."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay

from apps.core.graphql import needs, pk_of

from .selectors import endpoint_list

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


ROOT_FIELDS = ("webhookEndpoints", "webhookEndpoint")
