from django.core.management.base import CommandError

from apps.core.management import HubCommand
from apps.tenancy.selectors import tenant_get
from apps.tenancy.services import tenant_set_status


class SetStatusCommand(HubCommand):
    status: str

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        tenant = tenant_get(slug=slug)
        if tenant is None:
            raise CommandError(f"No tenant with the slug “{slug}”.")
        tenant_set_status(tenant=tenant, status=self.status)
        self.stdout.write(self.style.SUCCESS(f"{tenant.slug} is now {self.status}."))
