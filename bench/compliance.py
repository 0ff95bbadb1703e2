"""audit_verify_1m_s: verify_audit's walk over a tenant's audit trail of 1,000,000 entries (each
re-hashed with the one before it). Also prints audit_seal_1m_s: writing those entries in bulk
(INSERT … SELECT in batches of 100,000), their seals made by the database's trigger at each commit."""

import time

from bench.common import fresh_tenant, log, report

ENTRIES = 1_000_000
BATCH = 100_000
SLUG = "bench-audit"


def _fill(schema: str) -> None:
    from django.db import connection, transaction
    from psycopg import sql

    for start in range(0, ENTRIES, BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    """
                    INSERT INTO {schema}.auditlog_logentry (object_pk, object_id, object_repr, action, changes,
                        changes_text, timestamp, content_type_id, remote_addr, actor_email)
                    SELECT g::text, g, 'Membership ' || g, 1,
                           jsonb_build_object('role', jsonb_build_array('member', 'admin')), '', now(),
                           (SELECT min(id) FROM {schema}.django_content_type), '10.0.0.1', 'owner@bench.example.com'
                    FROM generate_series(%s, %s) AS g
                    """
                ).format(schema=sql.Identifier(schema)),
                [start + 1, start + BATCH],
            )
        log(f"audit: {start + BATCH:,} entries written and sealed")


def audit_verify_1m_s():
    from django_tenants.utils import schema_context

    from apps.compliance.chain import audit_chain_verify

    with fresh_tenant(SLUG, "Bench Audit") as tenant:
        started = time.perf_counter()
        _fill(tenant.schema_name)
        seal_s = time.perf_counter() - started
        with schema_context(tenant.schema_name):
            started = time.perf_counter()
            result = audit_chain_verify()
            verify_s = time.perf_counter() - started
        assert result.ok and result.entries >= ENTRIES, result
        log(f"audit: {result.entries:,} entries verified in {verify_s:.1f} s (written and sealed in {seal_s:.1f} s)")
        report("audit_verify_1m_s", verify_s, "s", 1)
        report("audit_seal_1m_s", seal_s, "s", 1)
