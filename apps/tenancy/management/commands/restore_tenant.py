from pathlib import Path

from django.core.management.base import CommandError

from apps.core.management import HubCommand
from apps.tenancy.backup import BackupError, Progress, backup_manifest, tenant_restore
from apps.tenancy.services import tenant_url


class Command(HubCommand):
    help = (
        "Restores a tenant from a backup_tenant file, as its own slug or --slug NEW_SLUG, all or nothing. "
        "Refuses a slug that exists unless --replace, and a backup whose migrations differ from the code's."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--slug", help="Restore as this slug (default: the backup's).")
        parser.add_argument(
            "--replace", action="store_true", help="Delete the tenant that has the slug first (same transaction)."
        )

    def handle(self, *args, file, slug, replace, **options):
        path = Path(file)
        try:
            manifest = backup_manifest(path)
            self.stdout.write(
                f"Restoring {manifest['slug']} (backed up {manifest.get('created', '?')}, hub "
                f"{manifest.get('hub_version', '?')}) as {slug or manifest['slug']}"
            )
            result = tenant_restore(path=path, slug=slug, replace=replace, progress=Progress(self.stdout))
        except (BackupError, OSError) as exc:
            raise CommandError(" ".join(str(exc).split())) from None
        for note in result.notes:
            self.stdout.write(f"  note: {note}")
        rows = sum(result.counts["tables"].values())
        public = sum(result.counts["public"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {result.tenant.slug}: {len(result.counts['tables'])} tables, {rows:,} rows, "
                f"{public} public rows, {sum(result.counts['files'].values()):,} files. {tenant_url(result.tenant)}"
            )
        )
