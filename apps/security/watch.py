"""What the rules watch, and where from: log-ins (django.contrib.auth's signals), calls with an
API key (apps.api's `api_key_used`), downloads (apps.content's `downloaded`) and domain events
(handlers registered in apps.py: deletions, someone made owner).

Detection runs in the request (or the event's dispatch) that saw the event: one Redis script per
event, and an incident row only when a rule trips, so an incident exists within milliseconds of
its event. It never breaks what it watches: an error (Redis down) is logged and the log-in goes on.
"""

import functools
import logging

from django.conf import settings
from django.db import connection

from apps.identity.audit import client_ip, user_agent
from apps.identity.mfa import session_require_factor
from apps.identity.models import Membership
from apps.identity.sessions import describe_device

from . import detect, services

log = logging.getLogger(__name__)


def _tenant_of(request):
    tenant = getattr(request, "tenant", None) if request is not None else None
    return None if tenant is None or tenant.is_public else tenant


def _guarded(watcher):
    @functools.wraps(watcher)
    def run(*args, **kwargs):
        if not settings.HUB_THREAT_DETECTION:
            return None
        try:
            return watcher(*args, **kwargs)
        except Exception:  # noqa: BLE001 - detection must never break a log-in, a call or a dispatch
            log.exception("threat detection failed in %s", watcher.__name__)
            return None

    return run


def on_login_factor(sender, request, user, **kwargs):
    """A second factor required by an incident's response applies whether detection is on or not."""
    if _tenant_of(request) is not None and hasattr(request, "session") and services.factor_required(user_id=user.pk):
        session_require_factor(session=request.session)


@_guarded
def on_login(sender, request, user, **kwargs):
    tenant = _tenant_of(request)
    if tenant is None or not Membership.objects.filter(tenant=tenant, user=user).exists():
        return  # a non-member's log-in on this site is the platform's business, not the tenant's
    ua = user_agent(request)
    found = detect.login_succeeded(
        schema=tenant.schema_name, user_id=user.pk, email=user.email, ip=client_ip(request),
        device=describe_device(ua) if ua else "",
    )  # fmt: skip
    services.incidents_raise(tenant=tenant, findings=found, request=request)


@_guarded
def on_login_failed(sender, credentials, request=None, **kwargs):
    tenant = _tenant_of(request)
    if tenant is None:
        return
    email = str(credentials.get("email") or credentials.get("username") or credentials.get("login") or "")
    found = detect.login_failed(schema=tenant.schema_name, email=email, ip=client_ip(request))
    services.incidents_raise(tenant=tenant, findings=found, request=request)


@_guarded
def on_api_key_used(sender, key, ip, **kwargs):
    if sender is None or sender.is_public:
        return
    found = detect.api_key_used(schema=sender.schema_name, key_id=key.id, key_name=key.name, ip=ip)
    services.incidents_raise(tenant=sender, findings=found)


@_guarded
def on_download(sender, request, version, **kwargs):
    tenant = _tenant_of(request)
    user = getattr(request, "user", None)
    if tenant is None or user is None or not user.is_authenticated:
        return  # a public link's download: nobody to hold to it
    found = detect.acted(schema=tenant.schema_name, kind="download", user_id=user.pk, email=user.email)
    services.incidents_raise(tenant=tenant, findings=found)


# --- Domain events (handlers run in the event's dispatch, in its tenant's schema) -----------------

DELETIONS = (
    "content.document_trashed",
    "content.document_purged",
    "content.folder_trashed",
    "content.folder_purged",
)


def _event_time(event) -> float:
    return event.occurred_at.timestamp()


@_guarded
def on_deletions(events):
    tenant = connection.tenant
    for event in events:
        if not event.actor_id:
            continue  # the system's own (retention, an emptied trash): no one to hold to it
        email = event.actor.email if event.actor is not None else ""
        found = detect.acted(
            schema=tenant.schema_name, kind="deletion", user_id=event.actor_id, email=email, now=_event_time(event)
        )
        services.incidents_raise(tenant=tenant, findings=found)


@_guarded
def on_owner_made(event):
    p = event.payload or {}
    role = p.get("new_role") if event.type == "member.role_changed" else p.get("role")
    if role != "owner":
        return
    actor = event.actor.email if event.actor is not None else ""
    email, how = p.get("email", ""), "by accepting an invitation" if event.type == "member.joined" else ""
    if actor and event.actor_id != p.get("user_id") and not how:
        how = f"by {actor}"
    summary = f"{email} was made an owner of the organisation {how}".strip()
    finding = detect.Finding(
        "privilege_escalation", f"membership:{p.get('membership_id') or p.get('user_id')}:event:{event.pk}", summary,
        _event_time(event), user_id=p.get("user_id"), email=email,
        details={"old_role": p.get("old_role", ""), "by": actor, "event_id": str(event.pk)},
    )  # fmt: skip
    services.incidents_raise(tenant=connection.tenant, findings=[finding])
