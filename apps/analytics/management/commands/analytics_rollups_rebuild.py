from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from apps.analytics.services import rollups_rebuild
from apps.core.management import HubCommand
from apps.tenancy.backup.progress import Progress
from apps.tenancy.selectors import tenant_get


class Command(HubCommand):
    help = (
        "Makes a tenant's analytics rollups again from its events (after a restore, a change of its "
        "time zone, or to check them). Writers wait meanwhile; queries keep reading the old rollups."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")

    def handle(self, *args, tenant, **options):
        found = tenant_get(slug=tenant)
        if found is None:
            raise CommandError(f"No tenant with the slug “{tenant}”.")
        self.stdout.write(f"Rebuilding the analytics rollups of {found.slug} (time zone {found.time_zone})")
        with schema_context(found.schema_name):
            counted = rollups_rebuild(progress=Progress(self.stdout))
        self.stdout.write(self.style.SUCCESS(f"Rollups rebuilt from {counted:,} events."))
