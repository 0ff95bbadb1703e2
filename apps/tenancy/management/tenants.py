"""The base of the commands run on one tenant (--tenant SLUG) or on every tenant (--all)."""

from django.core.management.base import CommandError

from apps.core.management import HubCommand
from apps.tenancy.models import Tenant
from apps.tenancy.selectors import tenant_get


class TenantsCommand(HubCommand):
    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--tenant", help="The tenant's slug.")
        which.add_argument("--all", action="store_true", help="Every tenant, one after another.")

    def tenants_chosen(self, *, tenant: str | None, all: bool) -> list[Tenant]:
        """Every tenant but the public schema (by slug), or the one named; an unknown slug is one line."""
        if all:
            return list(Tenant.objects.exclude(schema_name="public").order_by("slug"))
        found = tenant_get(slug=tenant)
        if found is None:
            raise CommandError(f"No tenant with the slug “{tenant}”.")
        return [found]
