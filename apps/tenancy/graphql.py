"""tenancy's GraphQL types (apps.api.graphql): the organisation being served and its renaming,
over the service of /api/v1/tenant/ (api/views.py), with the same scope (`tenancy`) and
permissions (tenant.view to read; settings.change to rename)."""

from datetime import datetime

import strawberry
from strawberry import Info

from apps.core.api.serializers import valid
from apps.core.graphql import context, needs

from .api.serializers import TenantSerializer
from .models import Tenant
from .services import tenant_rename, tenant_url


@strawberry.type(description="The organisation this address serves.")
class Organisation:
    slug: str
    name: str
    plan: str = strawberry.field(description="The plan's key (billingPlan tells its limits and usage).")
    status: str
    created: datetime

    @strawberry.field(description="Its address.")
    def url(self: Tenant) -> str:
        return tenant_url(self)


@strawberry.type
class TenancyQuery:
    @strawberry.field(permission_classes=[needs("tenancy", "tenant.view")])
    def organisation(self, info: Info) -> Organisation:
        """The organisation (as GET /api/v1/tenant/)."""
        return context(info).tenant


@strawberry.type
class TenancyMutation:
    @strawberry.mutation(permission_classes=[needs("tenancy", "settings.change", write=True)])
    def rename_organisation(self, info: Info, name: str) -> Organisation:
        """Rename the organisation, as PATCH /api/v1/tenant/."""
        data = valid(TenantSerializer, {"name": name}, partial=True)
        ctx = context(info)
        return tenant_rename(tenant=ctx.tenant, name=data["name"], actor=ctx.user)


ROOT_FIELDS = ("organisation", "renameOrganisation")
