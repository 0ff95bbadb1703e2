"""Forwarding the audit trail to the tenant's SIEM: syslog (RFC 5424, over UDP or TCP with RFC 6587
octet counting) or a webhook (JSON signed the Standard Webhooks way, as the hub's webhooks are).

A Celery task (every 30 s, and at once when the settings change) sends what was sealed since the
last run, in chain order, each message carrying the entry's seal (seq, hash, previous hash): a copy
of the chain outside the platform, against which a rewritten chain would disagree. A failure is
kept on the settings (shown on the page) and the same entries are sent again next time.
"""

import json
import socket
import time
import uuid
from datetime import UTC

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core import ssrf
from apps.notifications import signing
from apps.notifications.webhooks import destination_policy
from apps.tenancy.models import Tenant

from .models import SiemSettings

APP_NAME = "reactdjango-hub"
ENTERPRISE_ID = 32473  # the example Private Enterprise Number of RFC 5424 (an operator may register one)
PRI = 13 * 8 + 5  # facility 13 (log audit), severity 5 (notice)
TIMEOUT = 5.0
BATCH = 500
ACTIONS = {0: "create", 1: "update", 2: "delete", 3: "access"}

_PENDING = """
    SELECT s.seq, e.id, e."timestamp", e.action, coalesce(e.actor_email, ''), e.object_repr,
           coalesce(host(e.remote_addr), ''), coalesce(e.additional_data->>'event', ''), s.prev_hash, s.hash,
           e.content_type_id, e.changes_text, e.changes
    FROM compliance_auditseal s JOIN auditlog_logentry e ON e.id = s.entry_id
    WHERE s.seq > %s ORDER BY s.seq LIMIT %s
"""


def policy() -> ssrf.Policy:
    """Syslog servers sit in private networks (allowed); loopback only where the settings say
    (the tests' local receiver); cloud metadata never."""
    return ssrf.Policy(http=True, private=True, loopback=settings.HUB_SIEM_ALLOW_LOOPBACK)


def _sd_value(value) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _words(row: dict) -> str:
    from auditlog.models import LogEntry

    from apps.identity.audit import audit_entry_words

    entry = LogEntry(
        action=row["action"],
        content_type_id=row["content_type_id"],
        additional_data={"event": row["event"]} if row["event"] else None,
        changes_text=row["changes_text"],
        changes=row["changes"],
    )
    return audit_entry_words(entry)


def syslog_message(row: dict, *, hostname: str) -> bytes:
    """One entry as an RFC 5424 message: header, one structured-data element, the words."""
    stamp = row["timestamp"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    params = {
        "seq": row["seq"],
        "entry": row["entry"],
        "action": ACTIONS.get(row["action"], str(row["action"])),
        "actor": row["actor_email"],
        "ip": row["ip_address"],
        "about": row["about"][:200],
        "hash": row["hash"],
        "prev": row["prev_hash"],
    }
    sd = f"[audit@{ENTERPRISE_ID} " + " ".join(f'{k}="{_sd_value(v)}"' for k, v in params.items()) + "]"
    header = f"<{PRI}>1 {stamp} {hostname or '-'} {APP_NAME} - audit {sd} "
    return header.encode() + "\ufeff".encode() + _words(row).encode()


def webhook_body(rows: list[dict], *, tenant) -> bytes:
    entries = [
        {
            "seq": r["seq"],
            "entry": r["entry"],
            "timestamp": r["timestamp"].isoformat(),
            "action": ACTIONS.get(r["action"], str(r["action"])),
            "actor_email": r["actor_email"],
            "about": r["about"],
            "ip_address": r["ip_address"],
            "event": r["event"],
            "summary": _words(r),
            "prev_hash": r["prev_hash"],
            "hash": r["hash"],
        }
        for r in rows
    ]
    return json.dumps({"type": "audit.entries", "tenant": tenant.slug, "entries": entries}).encode()


def _pending(after: int, limit: int) -> list[dict]:
    keys = (
        "seq", "entry", "timestamp", "action", "actor_email", "about", "ip_address", "event", "prev_hash", "hash",
        "content_type_id", "changes_text", "changes",
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_PENDING, [after, limit])
        rows = [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        if isinstance(row["changes"], str):
            row["changes"] = json.loads(row["changes"])
    return rows


def _syslog_send(messages: list[bytes], *, host: str, port: int, tcp: bool) -> None:
    family, _, _, _, address = ssrf.resolve(host, port, policy())[0]
    if tcp:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(TIMEOUT)
            sock.connect(address)
            sock.sendall(b"".join(f"{len(m)} ".encode() + m for m in messages))
    else:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            for message in messages:
                sock.sendto(message, address)


def _webhook_send(body: bytes, *, url: str, secret: str) -> None:
    headers = {
        "content-type": "application/json",
        **signing.headers([secret], f"msg_{uuid.uuid4().hex}", int(time.time()), body),
    }
    with ssrf.Session(destination_policy()) as session:
        answer = session.post(url, body, headers, timeout=TIMEOUT)
    if not 200 <= answer.status < 300:
        raise ConnectionError(f"the webhook answered {answer.status}")


def siem_forward(*, batch: int = BATCH) -> int:
    """Sends the current tenant's entries sealed since the last run; returns how many were sent."""
    tenant = Tenant.objects.get(schema_name=connection.schema_name)  # a task's connection has a stand-in
    sent = 0
    while True:
        with transaction.atomic():
            config = SiemSettings.objects.select_for_update(skip_locked=True).first()
            if config is None or config.transport == SiemSettings.Transport.OFF:
                return sent
            rows = _pending(config.forwarded_seq, batch)
            if not rows:
                return sent
            try:
                if config.transport == SiemSettings.Transport.WEBHOOK:
                    _webhook_send(webhook_body(rows, tenant=tenant), url=config.url, secret=config.secret)
                else:
                    hostname = f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}"
                    messages = [syslog_message(r, hostname=hostname) for r in rows]
                    tcp = config.transport == SiemSettings.Transport.SYSLOG_TCP
                    _syslog_send(messages, host=config.host, port=config.port, tcp=tcp)
            except (OSError, ssrf.BlockedDestination, ConnectionError) as exc:
                config.last_error = f"{timezone.now():%Y-%m-%d %H:%M} UTC: {exc}"[:500]
                config.save(update_fields=["last_error"])
                return sent
            config.forwarded_seq = rows[-1]["seq"]
            config.last_sent_at = timezone.now()
            config.last_error = ""
            config.save(update_fields=["forwarded_seq", "last_sent_at", "last_error"])
            sent += len(rows)
        if len(rows) < batch:
            return sent
