from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from apps.analytics.services import person_ids_backfill
from apps.core.management import HubCommand
from apps.tenancy.backup.progress import Progress
from apps.tenancy.selectors import tenant_get


class Command(HubCommand):
    help = (
        "Writes the person of each of a tenant's analytics events stored before events kept their "
        "person (persons on events), a day at a time; funnels read them without a join afterwards. "
        "Capture and queries go on meanwhile."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")

    def handle(self, *args, tenant, **options):
        found = tenant_get(slug=tenant)
        if found is None:
            raise CommandError(f"No tenant with the slug “{tenant}”.")
        self.stdout.write(f"Writing the persons of the analytics events of {found.slug}")
        with schema_context(found.schema_name):
            filled = person_ids_backfill(progress=Progress(self.stdout))
        self.stdout.write(self.style.SUCCESS(f"{filled:,} events given their person."))
