from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from apps.analytics import services
from apps.core.management import HubCommand
from apps.tenancy.backup.progress import Progress
from apps.tenancy.selectors import tenant_get


class Command(HubCommand):
    help = (
        "Moves one tenant's analytics events (and its persons' copy) to another event store, then "
        "makes it the tenant's store. Capture goes on meanwhile: new events wait in the queue and are "
        "written to the new store once the move is done."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--to", required=True, choices=["clickhouse", "postgres"], help="The store to move to.")

    def handle(self, *args, tenant, to, **options):
        found = tenant_get(slug=tenant)
        if found is None:
            raise CommandError(f"No tenant with the slug “{tenant}”.")
        self.stdout.write(f"Moving the events of {found.slug} (schema {found.schema_name}) to {to}")
        try:
            with schema_context(found.schema_name):
                copied = services.event_store_move(to=to, progress=Progress(self.stdout))
        except ValidationError as exc:
            raise CommandError(" ".join(m for ms in exc.message_dict.values() for m in ms)) from None
        except TimeoutError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Moved {copied:,} events; {found.slug} now uses {to}."))
