from django.core.management.base import CommandError

from apps.content.services import blobs_process
from apps.core.management import HubCommand
from apps.tenancy.selectors import tenant_get


class Command(HubCommand):
    help = (
        "Sends a tenant's files that were never processed (stored before processing existed, or "
        "whose task was lost) to the Celery workers: text, OCR and pictures. --failed also retries "
        "those whose processing failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--failed", action="store_true", help="Also retry files whose processing failed.")

    def handle(self, *args, tenant, failed, **options):
        found = tenant_get(slug=tenant)
        if found is None:
            raise CommandError(f"No tenant with the slug “{tenant}”.")
        sent = blobs_process(tenant=found, failed=failed)
        self.stdout.write(self.style.SUCCESS(f"{sent:,} file{'s' if sent != 1 else ''} sent to be processed."))
