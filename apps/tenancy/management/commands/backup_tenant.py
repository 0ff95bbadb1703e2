from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import CommandError

from apps.core.management import HubCommand
from apps.tenancy.backup import BackupError, Progress, tenant_backup
from apps.tenancy.selectors import tenant_get


class Command(HubCommand):
    help = (
        "Writes one tenant to a file (.tar.gz): every table of its schema, its migration state, and its "
        "rows in the public schema (tenant, domains, memberships with their users, pending invitations, "
        "security/SSO settings)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--output", "-o", help="The file to write (default: <slug>-<UTC time>.tar.gz in the current folder)."
        )

    def handle(self, *args, slug, output, **options):
        tenant = tenant_get(slug=slug)
        if tenant is None:
            raise CommandError(f"No tenant with the slug “{slug}”.")
        path = Path(output or f"{slug}-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar.gz")
        if path.exists():
            raise CommandError(f"{path} exists; choose another --output.")
        if path.parent.exists() and not path.parent.is_dir():
            raise CommandError(f"{path.parent} is not a folder.")
        self.stdout.write(f"Backing up {tenant.slug} (schema {tenant.schema_name}) to {path}")
        try:
            manifest = tenant_backup(tenant=tenant, output=path, progress=Progress(self.stdout))
        except (BackupError, OSError) as exc:
            raise CommandError(" ".join(str(exc).split())) from None
        counts = manifest["counts"]
        rows = sum(counts["tables"].values())
        public = sum(counts["public"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {path}: {len(counts['tables'])} tables, {rows:,} rows, {public} public rows, "
                f"{counts['users']} users, {sum(manifest['files'].values()):,} files ({path.stat().st_size:,} bytes)."
            )
        )
