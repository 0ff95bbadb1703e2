from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from apps.analytics import services

from ._tenant import TenantCommand


class Command(TenantCommand):
    help = (
        "Moves one tenant's analytics events (and its persons' copy) to another event store, then "
        "makes it the tenant's store. Capture goes on meanwhile: new events wait in the queue and are "
        "written to the new store once the move is done."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--to", required=True, choices=["clickhouse", "postgres"], help="The store to move to.")

    def handle(self, *args, tenant, to, **options):
        found = self.tenant_found(tenant)
        self.stdout.write(f"Moving the events of {found.slug} (schema {found.schema_name}) to {to}")
        try:
            copied = self.run_in(found, lambda progress: services.event_store_move(to=to, progress=progress))
        except ValidationError as exc:
            raise CommandError(" ".join(m for ms in exc.message_dict.values() for m in ms)) from None
        except TimeoutError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Moved {copied:,} events; {found.slug} now uses {to}."))
