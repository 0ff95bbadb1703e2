"""Compliance fixtures: audit entries written in a tenant's log, and the owner's way around the
audit trail's triggers (what an attacker with the tables' owner would do, to tamper)."""

from contextlib import contextmanager

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from apps.compliance.chain import seal_pending
from apps.tenancy.models import Tenant


def write_entries(tenant, count: int, *, repr_prefix: str = "entry") -> list[LogEntry]:
    """`count` audit entries in the tenant's log (the current schema), sealed at once."""
    ct = ContentType.objects.get_for_model(Tenant)
    made = [
        LogEntry.objects.create(
            content_type=ct, object_pk=str(tenant.pk), object_repr=f"{repr_prefix} {i}", action=LogEntry.Action.UPDATE
        )
        for i in range(count)
    ]
    seal_pending()
    return made


def _no_pending_checks(cursor) -> None:
    """PostgreSQL alters no table with deferred checks pending: run them now."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def triggers_off(*tables: str):
    """The tables' owner takes the triggers off for the block (tampering, as an attacker would)."""
    tables = tables or ("auditlog_logentry", "compliance_auditseal")
    seal_pending()
    with connection.cursor() as cursor:
        _no_pending_checks(cursor)
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            _no_pending_checks(cursor)
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
