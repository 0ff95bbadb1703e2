"""integrations' GraphQL types (apps.api.graphql): connections — never their secrets, only the
names of those set — and their test, over the selectors and services of
/api/v1/integrations/connections/ (api/views.py), with the same scope (`integrations`) and
permissions (integrations.view to read, integrations.edit to test)."""

import json
from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay
from strawberry.scalars import JSON

from apps.core.graphql import context, needs, pk_of

from . import selectors, services
from .models import Connection as ConnectionModel

READ = needs("integrations", "integrations.view")


@strawberry.type(description="A connection to an outside service: its address and how it signs in (no secrets).")
class Connection:
    id: strawberry.ID
    name: str
    connector: str
    auth_type: str
    base_url: str
    settings: JSON = strawberry.field(description="What is not secret: a username, a token URL, a header name, …")
    token_expires_at: datetime | None
    status: str
    status_reason: str
    checked_at: datetime | None
    created: datetime
    updated: datetime

    @strawberry.field(description="The names of the secrets it holds (never their values).")
    def has_secrets(self: ConnectionModel) -> list[str]:
        return sorted(json.loads(self.secrets or "{}"))


@strawberry.type(description="What testing a connection found.")
class ConnectionTest:
    ok: bool
    status: str
    reason: str
    connection: Connection


@strawberry.type
class IntegrationsQuery:
    @relay.connection(relay.ListConnection[Connection], permission_classes=[READ])
    def connections(self, info: Info) -> Iterable[Connection]:
        """The connections, oldest first (as GET /api/v1/integrations/connections/)."""
        return selectors.connection_list().order_by("id")

    @strawberry.field(permission_classes=[READ])
    def connection(self, info: Info, id: strawberry.ID) -> Connection | None:
        """One connection (null: none such here)."""
        return selectors.connection_list().filter(pk=pk_of(id)).first()


@strawberry.type
class IntegrationsMutation:
    @strawberry.mutation(permission_classes=[needs("integrations", "integrations.edit", write=True)])
    def test_connection(self, info: Info, id: strawberry.ID) -> ConnectionTest:
        """Test the connection now, as POST /api/v1/integrations/connections/{id}/test/."""
        connection = selectors.connection_list().get(pk=pk_of(id))
        ctx = context(info)
        ok, reason = services.connection_test(tenant=ctx.tenant, actor=ctx.user, connection=connection)
        return ConnectionTest(ok=ok, status=connection.status, reason=reason, connection=connection)


ROOT_FIELDS = ("connections", "connection", "testConnection")
