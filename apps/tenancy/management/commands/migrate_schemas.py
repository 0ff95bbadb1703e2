"""migrate_schemas that stays fast with thousands of tenants.

With no arguments naming a schema, an app or a migration it: migrates the public schema; reads
every tenant's django_migrations in a few UNION queries and finds the schemas that are behind;
migrates only those, in parallel worker processes, printing one line per tenant; keeps going when
one fails and ends with a summary (exit 1 if any failed); finally brings the template schema that
new tenants are cloned from up to date. Any other use falls through to django-tenants' command.
"""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from apps.core.db import close_connections_and_pools
from apps.tenancy.models import Tenant
from apps.tenancy.schemas import behind_schemas, template_ensure

PLAIN_OPTIONS = ("app_label", "migration_name", "fake", "fake_initial", "plan", "prune", "check_unapplied")


def _migrate_one(schema_name: str) -> tuple[str, float, str]:
    """Runs in a worker process: migrates one schema; returns (schema, seconds, error or "")."""
    from django.core.management import call_command

    started = time.monotonic()
    try:
        call_command(MigrateSchemasCommand(), tenant=True, schema_name=schema_name, interactive=False, verbosity=0)
        return schema_name, time.monotonic() - started, ""
    except Exception as exc:  # reported per tenant; the others go on
        return schema_name, time.monotonic() - started, f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        connections.close_all()


class Command(MigrateSchemasCommand):
    help = (
        "Migrates the public schema, then only the tenant schemas that are behind, in parallel "
        "(--workers), with a line per tenant and a summary; then refreshes the tenant template."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--workers",
            type=int,
            default=getattr(settings, "HUB_MIGRATE_WORKERS", 0) or min(4, multiprocessing.cpu_count()),
            help="Tenant schemas migrated at once (default: the CPU count, at most 4).",
        )

    def handle(self, *args, **options):
        if options.get("schema_name") or any(options.get(name) for name in PLAIN_OPTIONS):
            return super().handle(*args, **options)
        if not options.get("tenant"):
            super().handle(*args, **{**options, "shared": True, "tenant": False})
        if options.get("shared") and not options.get("tenant"):
            return None
        self._migrate_tenants(workers=max(1, options["workers"]), verbosity=options["verbosity"])
        template_ensure()
        return None

    def _migrate_tenants(self, *, workers: int, verbosity: int) -> None:
        started = time.monotonic()
        schemas = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
        behind = sorted(behind_schemas(schemas))
        if not behind:
            self.stdout.write(f"All {len(schemas)} tenant schemas are up to date ({time.monotonic() - started:.2f} s).")
            return
        self.stdout.write(
            f"{len(behind)} of {len(schemas)} tenant schemas are behind; migrating with {workers} workers."
        )
        close_connections_and_pools()  # the workers are forked: they must not share our connections or pool
        failures = []
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_migrate_one, schema) for schema in behind]
            for done, future in enumerate(as_completed(futures), start=1):
                schema, seconds, error = future.result()
                prefix = f"[{done}/{len(behind)}] {schema}"
                if error:
                    failures.append((schema, error))
                    self.stdout.write(self.style.ERROR(f"{prefix} FAILED after {seconds:.1f} s: {error}"))
                else:
                    self.stdout.write(f"{prefix} migrated in {seconds:.1f} s")
                self.stdout.flush()
        elapsed = time.monotonic() - started
        migrated = len(behind) - len(failures)
        summary = f"Migrated {migrated} of {len(behind)} schemas that were behind in {elapsed:.1f} s"
        if failures:
            self.stderr.write(self.style.ERROR(f"{summary}; {len(failures)} failed:"))
            for schema, error in failures:
                self.stderr.write(f"  {schema}: {error}")
            raise CommandError(
                f"{len(failures)} tenant schema(s) failed to migrate: {', '.join(s for s, _ in failures)}"
            )
        self.stdout.write(self.style.SUCCESS(summary + "."))
