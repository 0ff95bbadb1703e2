"""Security events in the audit log: log-in, log-out, failed log-in, lock-outs, factors added or
removed, SSO settings changed.

They are django-auditlog entries (action ACCESS for log-ins, CREATE/DELETE/UPDATE for factors and
settings) with the event name, the user agent and details in `additional_data` and the IP
address in `remote_addr`.

Which log: an event about one of the tenant's members (or a change of the tenant's settings by
one) lands in the tenant's own audit log; anything else seen while serving a tenant — a failed
log-in with an unknown email or a non-member's account, a non-member's log-in, a refused SSO
answer — lands in the platform's log (the public schema), so outsiders never write into a
tenant's log. On the public site everything goes to the platform's log.
"""

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

from .models import Membership, User

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


def _in_tenant_log(*, tenant, user: User | None, email: str, actor: User | None) -> bool:
    """Whether an event seen while serving `tenant` concerns one of its members."""
    if user is not None:
        subject = Membership.objects.filter(tenant=tenant, user=user)
    elif email:
        subject = Membership.objects.filter(tenant=tenant, user__email__iexact=email)
    elif actor is not None:
        subject = Membership.objects.filter(tenant=tenant, user=actor)
    else:
        return False
    return subject.exists()


def audit_event(*, request, event: str, user: User | None = None, email: str = "", **details) -> LogEntry:
    """Writes one security event; `user` is the account concerned (None for an unknown email)."""
    actor = getattr(request, "user", None) if request is not None else None
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    data = {"event": event, "user_agent": user_agent(request), **details}
    if email:
        data["email"] = email
    entry = LogEntry(
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
    tenant = getattr(connection, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        entry.save()
    elif _in_tenant_log(tenant=tenant, user=user, email=email, actor=actor):
        entry.save()
    else:
        with schema_context(get_public_schema_name()):
            entry.save()
    return entry


# --- The audit log in words -------------------------------------------------------------------

SECURITY_EVENT_WORDS = {
    "login": "Logged in",
    "logout": "Logged out",
    "login.failed": "Failed to log in",
    "login.locked": "Was locked out after failed log-ins",
    "mfa.verify_failed": "Failed the second-factor check",
    "mfa.factor_added": "Added a second factor",
    "mfa.factor_removed": "Removed a second factor",
    "mfa.recovery_codes_regenerated": "Made new recovery codes",
    "mfa.policy_changed": "Changed the second-factor policy",
    "sso.settings_changed": "Changed the single sign-on settings",
    "sessions.ended": "Ended sessions",
    "api_key.used": "Used an API key (its first call of the day)",
}
ACTION_WORDS = {
    LogEntry.Action.CREATE: "Created",
    LogEntry.Action.UPDATE: "Updated",
    LogEntry.Action.DELETE: "Deleted",
    LogEntry.Action.ACCESS: "Accessed",
}


def object_type_words(content_type) -> str:
    """What kind of thing an entry is about, e.g. "membership"."""
    model = content_type.model_class() if content_type else None
    return str(model._meta.verbose_name) if model else (content_type.model if content_type else "object")


def audit_entry_words(entry: LogEntry) -> str:
    """What an audit entry says happened, in words ("Updated membership: role"). The one place the
    audit log page asks; a richer sentence maker can take its place."""
    event = (entry.additional_data or {}).get("event") if isinstance(entry.additional_data, dict) else None
    if event:
        return SECURITY_EVENT_WORDS.get(event, event.replace(".", " ").replace("_", " ").capitalize())
    words = f"{ACTION_WORDS.get(entry.action, 'Changed')} {object_type_words(entry.content_type)}"
    fields = sorted(entry.changes_dict) if entry.action == LogEntry.Action.UPDATE else []
    return f"{words}: {', '.join(f.replace('_', ' ') for f in fields)}" if fields else words
