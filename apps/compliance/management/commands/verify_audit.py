from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from apps.compliance.chain import audit_chain_verify
from apps.core.management import HubCommand
from apps.tenancy.backup.progress import Progress
from apps.tenancy.models import Tenant
from apps.tenancy.selectors import tenant_get


class Command(HubCommand):
    help = (
        "Checks the hash chain of a tenant's audit trail (or every tenant's): each entry is re-hashed "
        "with the one before it. Exits 1 naming the first entry where the chain breaks."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--tenant", help="The tenant's slug.")
        which.add_argument("--all", action="store_true", help="Every tenant, one after another.")

    def handle(self, *args, tenant=None, all=False, **options):
        if all:
            tenants = list(Tenant.objects.exclude(schema_name="public").order_by("slug"))
        else:
            found = tenant_get(slug=tenant)
            if found is None:
                raise CommandError(f"No tenant with the slug “{tenant}”.")
            tenants = [found]
        broken = []
        for each in tenants:
            self.stdout.write(f"Checking the audit trail of {each.slug}")
            with schema_context(each.schema_name):
                report = audit_chain_verify(progress=Progress(self.stdout))
            if report.ok:
                done = f"{each.slug}: {report.entries:,} entries, unbroken (head {report.head})."
                self.stdout.write(self.style.SUCCESS(done))
            else:
                broken.append(f"{each.slug}: the chain breaks at entry {report.broken_entry}: {report.reason}")
                self.stderr.write(broken[-1])
        if broken:
            raise CommandError(f"The audit trail was tampered with ({len(broken)} of {len(tenants)} tenants).")
