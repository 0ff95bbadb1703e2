"""The API keys as GraphQL (apps.api.graphql), over the selectors and services of
/api/v1/api-keys/ (endpoints/keys.py), with the same scope and permission (admins, `api:*`).
Keys are made on the dashboard or with POST /api/v1/api-keys/ (the secret is shown once there)."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay

from apps.core.graphql import context, needs, pk_of

from ..models import ApiKey as ApiKeyModel
from ..selectors import api_key_last_used, api_key_list
from ..services import api_key_revoke

MANAGE = needs("api", "api_keys.manage")


@strawberry.type(description="An API key (never its secret).")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str
    scopes: list[str]
    status: str = strawberry.field(description="active, expired or revoked.")
    created: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @strawberry.field
    def created_by(self: ApiKeyModel) -> str:
        return self.created_by_email

    @strawberry.field(description="When it was last used (counted calls not yet flushed included).")
    def last_used_at(self: ApiKeyModel) -> datetime | None:
        return api_key_last_used(keys=[self]).get(self.pk, self.last_used_at)


def _keys(status: str | None):
    keys = api_key_list().order_by("-id")
    if status in ("active", "revoked"):
        keys = keys.filter(revoked_at__isnull=status == "active")
    return keys


@strawberry.type
class ApiKeysQuery:
    @relay.connection(relay.ListConnection[ApiKey], permission_classes=[MANAGE])
    def api_keys(self, info: Info, status: str | None = None) -> Iterable[ApiKey]:
        """The organisation's API keys, newest first; `status`: active or revoked."""
        return _keys(status)

    @strawberry.field(permission_classes=[MANAGE])
    def api_key(self, info: Info, id: strawberry.ID) -> ApiKey | None:
        """One API key (null: no such key here)."""
        return _keys(None).filter(pk=pk_of(id)).first()


@strawberry.type
class ApiKeysMutation:
    @strawberry.mutation(permission_classes=[needs("api", "api_keys.manage", write=True)])
    def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        """Revoke a key: it stops working at once (as POST /api/v1/api-keys/{id}/revoke/)."""
        return api_key_revoke(actor=context(info).membership, key=_keys(None).get(pk=pk_of(id)))


ROOT_FIELDS = ("apiKeys", "apiKey", "revokeApiKey")
