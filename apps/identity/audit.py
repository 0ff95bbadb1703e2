"""Security events in the audit log: log-in, log-out, failed log-in, lock-outs, factors added or
removed, SSO settings changed.

They are django-auditlog entries (action ACCESS for log-ins, CREATE/DELETE/UPDATE for factors and
settings) with the event name, the user agent and details in `additional_data` and the IP
address in `remote_addr`. Like every other entry, an event that happens while serving a tenant
lands in that tenant's own audit log; on the public site, in the public schema's log.
"""

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from .models import User

EVENTS = {
    "login": LogEntry.Action.ACCESS,
    "logout": LogEntry.Action.ACCESS,
    "login.failed": LogEntry.Action.ACCESS,
    "login.locked": LogEntry.Action.ACCESS,
    "mfa.verify_failed": LogEntry.Action.ACCESS,
    "mfa.factor_added": LogEntry.Action.CREATE,
    "mfa.factor_removed": LogEntry.Action.DELETE,
    "mfa.recovery_codes_regenerated": LogEntry.Action.UPDATE,
    "mfa.policy_changed": LogEntry.Action.UPDATE,
    "sso.settings_changed": LogEntry.Action.UPDATE,
    "sessions.ended": LogEntry.Action.DELETE,
}


def client_ip(request) -> str | None:
    """The client's address as the server saw it (a proxy in front must set REMOTE_ADDR right)."""
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None


def user_agent(request) -> str:
    return (request.META.get("HTTP_USER_AGENT") or "")[:400] if request is not None else ""


def audit_event(*, request, event: str, user: User | None = None, email: str = "", **details) -> LogEntry:
    """Writes one security event; `user` is the account concerned (None for an unknown email)."""
    actor = getattr(request, "user", None) if request is not None else None
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    data = {"event": event, "user_agent": user_agent(request), **details}
    if email:
        data["email"] = email
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(User),
        object_pk=str(user.pk) if user else "",
        object_id=user.pk if user else None,
        object_repr=(user.email if user else email or event)[:200],
        action=EVENTS[event],
        changes_text=event,
        actor=actor if actor is not None else user if event in ("login", "logout") else None,
        remote_addr=client_ip(request),
        additional_data=data,
    )
