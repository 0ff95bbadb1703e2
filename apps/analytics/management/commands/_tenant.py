"""What the analytics commands share: one tenant named by --tenant, its work shown with a progress bar."""

from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from apps.core.management import HubCommand
from apps.tenancy.backup.progress import Progress
from apps.tenancy.selectors import tenant_get


class TenantCommand(HubCommand):
    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")

    def tenant_found(self, slug: str):
        found = tenant_get(slug=slug)
        if found is None:
            raise CommandError(f"No tenant with the slug “{slug}”.")
        return found

    def run_in(self, tenant, work):
        """`work(progress)` in the tenant's schema, with a progress bar on stdout; its result."""
        with schema_context(tenant.schema_name):
            return work(Progress(self.stdout))
