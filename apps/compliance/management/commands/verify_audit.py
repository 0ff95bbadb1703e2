from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from apps.compliance.chain import audit_chain_verify
from apps.tenancy.backup.progress import Progress
from apps.tenancy.management.tenants import TenantsCommand


class Command(TenantsCommand):
    help = (
        "Checks the hash chain of a tenant's audit trail (or every tenant's): each entry is re-hashed "
        "with the one before it. Exits 1 naming the first entry where the chain breaks."
    )

    def handle(self, *args, tenant=None, all=False, **options):
        tenants = self.tenants_chosen(tenant=tenant, all=all)
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
