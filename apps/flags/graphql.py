"""flags' GraphQL types (apps.api.graphql): the feature flags, over the selectors and services of
/api/v1/flags/ (api/views.py), with the same scope and permissions (flags.view, flags.edit)."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay
from strawberry.scalars import JSON

from apps.core.graphql import context, needs, pk_of

from . import selectors, services

READ = needs("flags", "flags.view")


@strawberry.type(description="A feature flag.")
class Flag:
    id: strawberry.ID
    key: str
    name: str
    description: str
    active: bool = strawberry.field(description="The kill switch: false serves every person false.")
    starts_at: datetime | None
    ends_at: datetime | None
    filters: JSON = strawberry.field(description="Condition groups, variants, payloads (PostHog's shape).")
    overrides: JSON = strawberry.field(description="distinct id → true, false or a variant.")
    version: int
    created: datetime
    updated: datetime


@strawberry.type
class FlagsQuery:
    @relay.connection(relay.ListConnection[Flag], permission_classes=[READ])
    def flags(self, info: Info) -> Iterable[Flag]:
        """The organisation's flags, oldest first (as GET /api/v1/flags/)."""
        return selectors.flag_list().order_by("id")

    @strawberry.field(permission_classes=[READ])
    def flag(self, info: Info, id: strawberry.ID) -> Flag | None:
        """One flag (null: no such flag here)."""
        return selectors.flag_list().filter(pk=pk_of(id)).first()


@strawberry.type
class FlagsMutation:
    @strawberry.mutation(permission_classes=[needs("flags", "flags.edit", write=True)])
    def set_flag_active(self, info: Info, id: strawberry.ID, active: bool) -> Flag:
        """Turn a flag on or off (a new version), as PATCH /api/v1/flags/{id}/ with `active`."""
        ctx = context(info)
        flag = selectors.flag_list().get(pk=pk_of(id))
        return services.flag_update(tenant=ctx.tenant, actor=ctx.user, flag=flag, active=active)


ROOT_FIELDS = ("flags", "flag", "setFlagActive")
