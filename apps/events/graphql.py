"""events' GraphQL types (apps.api.graphql): the event types a tenant's webhooks and workflows
can use, as /api/v1/events/event-types/ gives them (same scope and permission)."""

import strawberry
from strawberry import Info
from strawberry.scalars import JSON

from apps.core.graphql import needs

from .selectors import event_type_get, event_type_list


@strawberry.type(description="A kind of domain event, e.g. member.joined.")
class EventType:
    name: str
    label: str
    description: str
    payload_schema: JSON = strawberry.field(description="JSON Schema (2020-12) of the event's data.")


@strawberry.type
class EventsQuery:
    @strawberry.field(permission_classes=[needs("events", "tenant.view")])
    def event_types(self, info: Info) -> list[EventType]:
        """Every event type, by name."""
        return event_type_list()

    @strawberry.field(permission_classes=[needs("events", "tenant.view")])
    def event_type(self, info: Info, name: str) -> EventType | None:
        """One event type (null: there is none of that name)."""
        return event_type_get(name=name)


ROOT_FIELDS = ("eventTypes", "eventType")
