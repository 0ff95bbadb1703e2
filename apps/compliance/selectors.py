"""Compliance reads."""

from .models import GENESIS, AuditSeal


def audit_trail_summary() -> dict:
    """How long the chain is and its last hash (what an auditor writes down to compare later)."""
    last = AuditSeal.objects.order_by("-seq").first()
    return {
        "entries": AuditSeal.objects.count(),
        "head": last.hash if last else GENESIS,
        "last_sealed_at": last.sealed_at if last else None,
    }
