from apps.analytics.services import rollups_rebuild

from ._tenant import TenantCommand


class Command(TenantCommand):
    help = (
        "Makes a tenant's analytics rollups again from its events (after a restore, a change of its "
        "time zone, or to check them). Writers wait meanwhile; queries keep reading the old rollups."
    )

    def handle(self, *args, tenant, **options):
        found = self.tenant_found(tenant)
        self.stdout.write(f"Rebuilding the analytics rollups of {found.slug} (time zone {found.time_zone})")
        counted = self.run_in(found, lambda progress: rollups_rebuild(progress=progress))
        self.stdout.write(self.style.SUCCESS(f"Rollups rebuilt from {counted:,} events."))
