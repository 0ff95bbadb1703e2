"""Compliance writes: the tamper check (recorded as an event), the SIEM settings."""

import ipaddress
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from apps.core import ssrf
from apps.core.events import publish
from apps.core.taskref import TaskRef
from apps.notifications import signing
from apps.notifications.webhooks import destination_policy

from . import siem
from .chain import ChainReport, audit_chain_verify
from .models import AuditSeal, SiemSettings

SIEM_FORWARD = TaskRef("apps.compliance.tasks.siem_forward")


def audit_check(*, tenant, actor=None) -> ChainReport:
    """Verifies the tenant's chain and records that someone did (an event, in the trail itself)."""
    report = audit_chain_verify()
    payload = {"ok": report.ok, "entries": report.entries, "broken_entry": report.broken_entry}
    with transaction.atomic():
        publish("compliance.audit_checked", payload, tenant=tenant, actor=actor)
    return report


def siem_settings_get() -> SiemSettings:
    return SiemSettings.objects.first() or SiemSettings()


def siem_settings_update(
    *, tenant, actor, transport: str, host: str = "", port: int | None = None, url: str = ""
) -> SiemSettings:
    """Chooses where the audit trail goes. Forwarding starts with the entries written from now on
    (the export gives the history). Refuses a destination it could not reach, naming the field."""
    Transport = SiemSettings.Transport
    if transport not in Transport.values:
        raise ValidationError({"transport": "Choose how the audit trail is forwarded."})
    host, url = (host or "").strip(), (url or "").strip()
    errors = {}
    if transport in (Transport.SYSLOG_UDP, Transport.SYSLOG_TCP):
        if not host:
            errors["host"] = "Give the syslog server's host name or address."
        else:
            refusal = _host_refusal(host)
            if refusal:
                errors["host"] = refusal
        if port is None or not 1 <= port <= 65535:
            errors["port"] = "Give the syslog server's port (1–65535; syslog is 514, or 6514 over TLS)."
        url = ""
    elif transport == Transport.WEBHOOK:
        refusal = ssrf.url_refusal(url, destination_policy()) if url else "Give the webhook's address."
        if refusal:
            errors["url"] = refusal
        host, port = "", None
    else:
        host, port, url = "", None, ""
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        config = SiemSettings.objects.select_for_update().first() or SiemSettings()
        was_off = config.transport == Transport.OFF
        config.transport, config.host, config.port, config.url = transport, host, port, url
        if transport == Transport.WEBHOOK and not config.secret:
            config.secret = signing.secret_generate()
        if was_off and transport != Transport.OFF:
            config.forwarded_seq = AuditSeal.objects.aggregate(last=Max("seq"))["last"] or 0
        config.last_error = ""
        config.save()
        publish("compliance.siem_changed", {"transport": transport}, tenant=tenant, actor=actor)
        if transport != Transport.OFF:
            schema = tenant.schema_name
            transaction.on_commit(lambda: SIEM_FORWARD.apply_async(headers={"_schema_name": schema}))
    return config


def _host_refusal(host: str) -> str | None:
    try:
        clean = ssrf.destination_host(host.lower())
    except ValueError:
        return "That is not a host name or address."
    if not re.fullmatch(r"[a-z0-9.:-]+", clean):
        return "A host name or address only, without a scheme, port or path."
    try:
        address = ipaddress.ip_address(clean)
    except ValueError:
        return None
    refusal = ssrf.address_refusal(address, siem.policy())
    return f"The audit trail cannot be sent there: {refusal}." if refusal else None
