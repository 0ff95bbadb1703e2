"""The audit trail's hash chain, read back: verify it, export it.

Each tenant's audit entries are sealed by the database at commit (apps/compliance/sql.py): seal n
holds hash_n = sha256(hash_{n-1} + canonical(entry_n)), hash_0 = 64 zeros. Verifying walks the
seals in order and recomputes every hash from the entry as it is now, so any entry changed,
removed or slipped in without its seal, and any seal re-written, breaks the chain at that point.
Rewriting the whole chain after a change needs the triggers taken off by the tables' owner and
every later hash recomputed; the hashes already forwarded to the tenant's SIEM then disagree
(docs/compliance.md).
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from .models import GENESIS

_WALK = """
    SELECT s.seq, s.entry_id, s.prev_hash, s.hash, e.id IS NOT NULL,
           public.compliance_audit_canonical(to_jsonb(e), e."timestamp")
    FROM compliance_auditseal s LEFT JOIN auditlog_logentry e ON e.id = s.entry_id
    ORDER BY s.seq
"""
_UNSEALED = """
    SELECT e.id FROM auditlog_logentry e
    WHERE NOT EXISTS (SELECT 1 FROM compliance_auditseal s WHERE s.entry_id = e.id)
    ORDER BY e.id LIMIT 1
"""


@dataclass(frozen=True)
class ChainReport:
    """What verifying found: `ok`, how many entries were checked, and for a broken chain the first
    entry where it breaks (`broken_entry`, its seal `broken_seq`) and why (`reason`, in words)."""

    ok: bool
    entries: int
    head: str = GENESIS  # the last hash (an auditor may write it down to compare later)
    broken_entry: int | None = None
    broken_seq: int | None = None
    reason: str = ""


def entry_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def seal_pending() -> None:
    """Seals the entries this transaction wrote so far (the seals are otherwise written at commit)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS compliance_audit_seal IMMEDIATE")
        cursor.execute("SET CONSTRAINTS compliance_audit_seal DEFERRED")


def _rows(batch: int) -> Iterator[tuple]:
    cursor = connection.chunked_cursor()  # server-side: a million rows are never all in memory
    try:
        cursor.execute(_WALK)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def audit_chain_verify(*, progress=None, batch: int = 5000) -> ChainReport:
    """Walks the current tenant's chain. `progress` (apps.tenancy.backup.progress.Progress, or
    None) shows how far it got."""
    with transaction.atomic():
        seal_pending()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM compliance_auditseal")
            total = cursor.fetchone()[0]
        if progress is not None:
            progress.start("audit entries", total)
        prev, checked, step = GENESIS, 0, 0
        for seq, entry_id, prev_hash, hash_, exists, canonical in _rows(batch):
            reason = ""
            if prev_hash != prev:
                reason = "the entry before it, or its seal, was removed or rewritten"
            elif not exists:
                reason = "it was deleted"
            elif entry_hash(prev, canonical) != hash_:
                reason = "it was changed after it was written"
            if reason:
                if progress is not None:
                    progress.finish("broken")
                return ChainReport(False, checked, prev, entry_id, seq, reason)
            prev = hash_
            checked += 1
            step += 1
            if progress is not None and step == batch:
                progress.advance(step)
                step = 0
        with connection.cursor() as cursor:
            cursor.execute(_UNSEALED)
            unsealed = cursor.fetchone()
        if progress is not None:
            progress.finish(f"{checked:,} entries")
        if unsealed is not None:
            return ChainReport(False, checked, prev, unsealed[0], None, "it was written without its seal")
        return ChainReport(True, checked, prev)


EXPORT_COLUMNS = (
    "seq", "entry", "timestamp", "action", "actor_email", "about", "changes",
    "ip_address", "event", "prev_hash", "hash",
)  # fmt: skip


def audit_chain_rows(*, batch: int = 5000) -> Iterator[dict]:
    """Every entry with its seal, in chain order (the evidence export)."""
    sql = """
        SELECT s.seq, e.id, e."timestamp", e.action, coalesce(e.actor_email, ''), e.object_repr,
               e.changes_text, coalesce(host(e.remote_addr), ''), coalesce(e.additional_data->>'event', ''),
               s.prev_hash, s.hash
        FROM compliance_auditseal s JOIN auditlog_logentry e ON e.id = s.entry_id ORDER BY s.seq
    """
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            for row in rows:
                yield dict(zip(EXPORT_COLUMNS, row, strict=True))
    finally:
        cursor.close()
