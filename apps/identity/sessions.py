"""Browser sessions a user can see and end (the Sessions page), kept beside Django's sessions.

A UserSession row is written at log-in, its last activity refreshed at most once a minute by
SecurityPolicyMiddleware, and it is deleted with the session (log-out, "end", password change).
A session that ends loses its open websockets at once (see _close_sockets).
"""

import hashlib
import re
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core import realtime

from .audit import client_ip, user_agent
from .models import Membership, User, UserSession

ACTIVITY_KEY = "hub_seen"
ROW_KEY = "hub_session_row"
ACTIVITY_EVERY_SECONDS = 60


def _store(session_key=None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def session_record(*, request, user: User) -> UserSession | None:
    key = request.session.session_key
    if not key:
        request.session.save()
        key = request.session.session_key
    tenant = getattr(request, "tenant", None)
    now = timezone.now()
    request.session[ACTIVITY_KEY] = int(now.timestamp())
    row, _ = UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "tenant": tenant if tenant is not None and not tenant.is_public else None,
            "ip_address": client_ip(request),
            "user_agent": user_agent(request),
            "last_activity": now,
            "expires_at": request.session.get_expiry_date(),
        },
    )
    request.session[ROW_KEY] = row.pk
    return row


def session_rekey(*, request) -> None:
    """After Django cycled the session key (a password change keeps the user logged in under a
    new key), points the current session's row at the new key."""
    row_id = request.session.get(ROW_KEY)
    if row_id and request.session.session_key:
        UserSession.objects.filter(pk=row_id).update(session_key=request.session.session_key)


def session_touch(*, request) -> None:
    """Refreshes the current session's last activity, at most once a minute (no write otherwise)."""
    now = int(timezone.now().timestamp())
    seen = request.session.get(ACTIVITY_KEY, 0)
    if now - seen < ACTIVITY_EVERY_SECONDS:
        return
    request.session[ACTIVITY_KEY] = now
    UserSession.objects.filter(session_key=request.session.session_key).update(
        last_activity=timezone.now(), ip_address=client_ip(request), expires_at=request.session.get_expiry_date()
    )


def session_list(*, user: User) -> QuerySet[UserSession]:
    return UserSession.objects.filter(user=user, expires_at__gt=timezone.now()).select_related("tenant")


def session_end(*, user: User, session_key: str) -> bool:
    """Ends one of the user's sessions: its data is deleted, so its cookie logs in no more, and
    its open websockets are closed."""
    return _end(user=user, session_keys=[session_key]) == 1


def session_end_others(*, user: User, keep_session_key: str | None) -> int:
    others = UserSession.objects.filter(user=user).exclude(session_key=keep_session_key or "")
    return _end(user=user, session_keys=list(others.values_list("session_key", flat=True)))


def session_end_in(*, user: User, tenant) -> int:
    """Ends the person's sessions on `tenant`'s site only (their other organisations' stay)."""
    here = UserSession.objects.filter(user=user, tenant=tenant)
    return _end(user=user, session_keys=list(here.values_list("session_key", flat=True)))


def session_forget(*, user: User, session_key: str | None) -> None:
    """After a log-out (Django has deleted the session's data): its row goes, its sockets close."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()
        _close_sockets(user=user, session_keys=[session_key])


def _end(*, user: User, session_keys: list[str]) -> int:
    rows = UserSession.objects.filter(user=user, session_key__in=session_keys)
    keys = list(rows.values_list("session_key", flat=True))
    store = _store()
    for key in keys:
        store.delete(key)
    UserSession.objects.filter(user=user, session_key__in=keys).delete()
    _close_sockets(user=user, session_keys=keys)
    return len(keys)


def session_tag(session_key: str) -> str:
    """Names a session to its websockets (apps.notifications.consumers): a hash, so the key itself
    never travels through the channel layer."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def _close_sockets(*, user: User, session_keys: list[str]) -> None:
    """After commit, closes the open websockets of these sessions. Each socket follows its
    member's group of its tenant, so one message per tenant of the user reaches them all (no
    group, subscription or channel per socket or session); the message names the sessions by
    their tags and the user's other sockets stay open."""
    if not session_keys:
        return
    message = {"type": "hub.sessions_ended", "sessions": [session_tag(key) for key in session_keys]}
    schemas = list(Membership.objects.filter(user=user).values_list("tenant__schema_name", flat=True))

    def send():
        for schema in schemas:
            realtime.group_send(realtime.user_group(schema, user.pk), message)

    transaction.on_commit(send)


_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]


def describe_device(ua: str) -> str:
    """'Chrome on Linux' from a user agent; the raw string when nothing is recognised."""
    if not ua:
        return "Unknown device"
    browser = next((name for token, name in _BROWSERS if token in ua), None)
    if "HeadlessChrome" in ua:
        browser = "Chrome (headless)"
    system = next((name for token, name in _SYSTEMS if token in ua), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or re.sub(r"\s+", " ", ua)[:60]
