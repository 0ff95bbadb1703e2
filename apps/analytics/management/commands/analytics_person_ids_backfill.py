from apps.analytics.services import person_ids_backfill

from ._tenant import TenantCommand


class Command(TenantCommand):
    help = (
        "Writes the person of each of a tenant's analytics events stored before events kept their "
        "person (persons on events), a day at a time; funnels read them without a join afterwards. "
        "Capture and queries go on meanwhile."
    )

    def handle(self, *args, tenant, **options):
        found = self.tenant_found(tenant)
        self.stdout.write(f"Writing the persons of the analytics events of {found.slug}")
        filled = self.run_in(found, lambda progress: person_ids_backfill(progress=progress))
        self.stdout.write(self.style.SUCCESS(f"{filled:,} events given their person."))
