from django.core.management.base import CommandError

from apps.core.management import HubCommand
from apps.tenancy.selectors import tenant_get
from apps.tenancy.services import tenant_delete


class Command(HubCommand):
    help = "Deletes a tenant: drops its schema and removes its row, domains and memberships."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation (for scripts).")

    def handle(self, *args, slug, yes, **options):
        tenant = tenant_get(slug=slug)
        if tenant is None:
            raise CommandError(f"No tenant with the slug “{slug}”.")
        if not yes:
            try:
                answer = input(f"Delete {tenant.name} ({tenant.slug}) and ALL its data? Type the slug to confirm: ")
            except EOFError:
                answer = ""
            if answer.strip() != tenant.slug:
                raise CommandError("Not confirmed; nothing was deleted.")
        tenant_delete(tenant=tenant)
        self.stdout.write(self.style.SUCCESS(f"Deleted {slug} and its schema {tenant.schema_name}."))
