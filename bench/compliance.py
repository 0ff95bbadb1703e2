"""audit_verify_1m_s: verify_audit's walk over a tenant's audit trail of 1,000,000 entries (each
re-hashed with the one before it). Also prints audit_seal_1m_s: writing those entries in bulk
(INSERT … SELECT in batches of 100,000), their seals made by the database's trigger at each commit.

dsar_export_s: data_request_build end to end (what the Celery task runs) for an access request of
a member with 100,000 rows across apps (60,000 notifications, 30,000 events, 10,000 audit entries):
every app's export, the ZIP of JSON and CSV, saved to default storage (a temporary MEDIA_ROOT), the
template engine loaded first as in a worker that has run a task. Also prints dsar_export_rows, the
rows the copy holds."""

import resource
import tempfile
import time
from datetime import timedelta

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


DSAR_SLUG = "bench-dsar"
DSAR_EMAIL = "person@bench-dsar.example.com"
# Rows that refer to the person, per table (tenant schema), written with INSERT … SELECT.
DSAR_ROWS = {"notifications": 60_000, "events": 30_000, "audit": 10_000}
DSAR_BATCH = 10_000

_DSAR_INSERTS = {
    "notifications": """
        INSERT INTO {schema}.notifications_notification (user_id, event_type, title, body, url, created, in_app)
        SELECT %(user)s, 'member.joined', 'Notification ' || g, 'Something happened that concerns you (' || g || ').',
               '/members/', now(), true
        FROM generate_series(%(first)s, %(last)s) AS g
    """,
    "events": """
        INSERT INTO {schema}.events_event (id, type, payload, actor_id, occurred_at, dispatched_at, attempts,
            last_error, traceparent)
        SELECT gen_random_uuid(), 'member.joined', '{{}}'::jsonb, %(user)s, now(), now(), 0, '', ''
        FROM generate_series(%(first)s, %(last)s) AS g
    """,
    "audit": """
        INSERT INTO {schema}.auditlog_logentry (object_pk, object_id, object_repr, action, changes,
            changes_text, timestamp, content_type_id, remote_addr, actor_id)
        SELECT g::text, g, 'Membership ' || g, 1, jsonb_build_object('role', jsonb_build_array('member', 'admin')),
               '', now(), (SELECT min(id) FROM {schema}.django_content_type), '10.0.0.1', %(user)s
        FROM generate_series(%(first)s, %(last)s) AS g
    """,
}


def _dsar_fill(schema: str, user_id: int) -> None:
    """The person's rows; the audit entries get their actor's address and their seals from the
    database's triggers (at each commit)."""
    from django.db import connection, transaction
    from psycopg import sql

    for table, count in DSAR_ROWS.items():
        for start in range(0, count, DSAR_BATCH):
            last = min(start + DSAR_BATCH, count)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL(_DSAR_INSERTS[table]).format(schema=sql.Identifier(schema)),
                    {"user": user_id, "first": start + 1, "last": last},
                )
        log(f"dsar: {count:,} {table} rows of the person written")


def dsar_export_s():
    from django.core.files.storage import default_storage
    from django.db import connection
    from django.template.loader import get_template
    from django.test import override_settings
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.compliance.data_requests import data_request_build
    from apps.compliance.models import DataRequest
    from apps.identity.models import Membership, User

    user = User.objects.filter(email=DSAR_EMAIL).first() or User.objects.create_user(
        email=DSAR_EMAIL, password=None, full_name="Bench Person"
    )
    with (
        fresh_tenant(DSAR_SLUG, "Bench DSAR") as tenant,
        tempfile.TemporaryDirectory(prefix="hub-bench-dsar-") as media,
        override_settings(MEDIA_ROOT=media),
    ):
        Membership.objects.create(user=user, tenant=tenant, role="member")
        started = time.perf_counter()
        _dsar_fill(tenant.schema_name, user.pk)
        log(f"dsar: {sum(DSAR_ROWS.values()):,} rows written in {time.perf_counter() - started:.1f} s")
        with schema_context(tenant.schema_name):
            # As data_request_open makes it for the person themselves, without its on-commit task:
            # the benchmark calls what the task runs, here.
            opened = DataRequest.objects.create(
                kind=DataRequest.Kind.ACCESS,
                subject=user,
                subject_name=user.get_full_name(),
                opened_by=user,
                due_at=timezone.now() + timedelta(days=30),
                status=DataRequest.Status.OPEN,
                verified_at=timezone.now(),
                verification="Signed in as themselves",
            )
            # A worker that has rendered any template has loaded the template engine (its tag
            # libraries import SAML's, ~0.5 s): not a cost of the copy.
            get_template("compliance/copy_readme.txt")
            queries = []
            rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            with connection.execute_wrapper(lambda execute, *args: queries.append(1) or execute(*args)):
                started = time.perf_counter()
                request = data_request_build(request_id=opened.pk, tenant=tenant)
                build_s = time.perf_counter() - started
            rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_kb
            assert request is not None and request.status == DataRequest.Status.DONE, request and request.resolution
            assert request.rows >= sum(DSAR_ROWS.values()), request.outcome
            try:
                log(
                    f"dsar: {request.rows:,} rows ({request.outcome}) in a ZIP of {request.file_size / 1e6:.1f} MB, "
                    f"built in {build_s:.1f} s with {len(queries)} SQL statements (peak RSS +{rss_kb / 1024:.0f} MB)"
                )
            finally:
                default_storage.delete(request.file)
        report("dsar_export_s", build_s, "s", 1)
        report("dsar_export_rows", request.rows, "rows", 0)
