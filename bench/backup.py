"""backup_100k_rows_s / restore_100k_rows_s: backup_tenant and restore_tenant (in-process, no
manage.py start-up) on a tenant whose audit log holds 100,000 rows, restored as a new slug next
to the original. Also prints backup_100k_rows_mb, the size of the file."""

import tempfile
import time
from pathlib import Path

from bench.common import log, report

ROWS = 100_000
SLUG, COPY = "bench-backup", "bench-backup-copy"


def _delete_leftovers():
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_delete

    for tenant in Tenant.objects.filter(slug__in=[SLUG, COPY]):
        tenant_delete(tenant=tenant)


def _fill(schema: str) -> None:
    from django.db import connection
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                """
                INSERT INTO {schema}.auditlog_logentry (object_pk, object_id, object_repr, action, changes,
                    changes_text, timestamp, content_type_id, remote_addr)
                SELECT g::text, g, 'Membership ' || g, 1,
                       jsonb_build_object('role', jsonb_build_array('member', 'admin')), '', now(),
                       (SELECT min(id) FROM {schema}.django_content_type), '10.0.0.1'
                FROM generate_series(1, %s) AS g
                """
            ).format(schema=sql.Identifier(schema)),
            [ROWS],
        )
        cursor.execute(sql.SQL("ANALYZE {}.auditlog_logentry").format(sql.Identifier(schema)))


def backup_restore():
    from apps.identity.services import organisation_provision
    from apps.tenancy.backup import tenant_backup, tenant_restore

    _delete_leftovers()
    try:
        tenant, _ = organisation_provision(
            name="Bench Backup", slug=SLUG, owner_email="owner@bench-backup.example.com", owner_password="bench-1234-pw"
        )
        _fill(tenant.schema_name)
        with tempfile.TemporaryDirectory(prefix="hub-bench-backup-") as workdir:
            path = Path(workdir) / "bench.tar.gz"
            started = time.perf_counter()
            tenant_backup(tenant=tenant, output=path)
            backup_s = time.perf_counter() - started
            size_mb = path.stat().st_size / 1e6
            started = time.perf_counter()
            result = tenant_restore(path=path, slug=COPY)
            restore_s = time.perf_counter() - started
        rows = sum(result.counts["tables"].values())
        log(f"backup/restore: {rows:,} rows, backup {backup_s:.2f} s, restore {restore_s:.2f} s, {size_mb:.2f} MB")
        report("backup_100k_rows_s", backup_s, "s", 2)
        report("restore_100k_rows_s", restore_s, "s", 2)
        report("backup_100k_rows_mb", size_mb, "MB", 2)
    finally:
        _delete_leftovers()
