"""Which event types notify whom, with what words, and on which channel by default.

A rule names the recipients (user ids) of an event and the title, body and link of the
notification. Apps above notifications may add rules with `rule_register()`.
"""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection

from apps.identity.models import Membership
from apps.identity.roles import Role

from .models import Channel


@dataclass(frozen=True)
class Rule:
    event_type: str
    recipients: Callable  # (event) -> iterable of user ids
    title: Callable  # (event) -> str
    url: str = ""
    body: Callable | None = None
    default_channel: str = Channel.IN_APP


RULES: dict[str, Rule] = {}


def rule_register(rule: Rule) -> None:
    RULES[rule.event_type] = rule


_memo: ContextVar[dict | None] = ContextVar("notification_rules_memo", default=None)


@contextmanager
def memoized():
    """Within the block (the events of one dispatch), admins() reads each tenant's admins once."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def admins(event) -> list[int]:
    """The owners and admins of the tenant being served."""
    memo = _memo.get()
    tenant_id = connection.tenant.pk
    if memo is not None and tenant_id in memo:
        return memo[tenant_id]
    ids = list(
        Membership.objects.filter(tenant_id=tenant_id, role__in=[Role.OWNER, Role.ADMIN]).values_list(
            "user_id", flat=True
        )
    )
    if memo is not None:
        memo[tenant_id] = ids
    return ids


def _p(event, key, default=""):
    return event.payload.get(key, default)


def _role(value) -> str:
    return dict(Role.choices).get(value, value or "").lower()


for _rule in [
    Rule(
        "member.joined",
        admins,
        lambda e: f"{_p(e, 'email')} joined as {_role(_p(e, 'role'))}",
        url="/members/",
    ),
    Rule(
        "member.role_changed",
        lambda e: {*admins(e), _p(e, "user_id")},
        lambda e: f"{_p(e, 'email')} is now {_role(_p(e, 'new_role'))} (was {_role(_p(e, 'old_role'))})",
        url="/members/",
        default_channel=Channel.BOTH,
    ),
    Rule(
        "member.removed",
        admins,
        lambda e: f"{_p(e, 'email')} {'left the organisation' if _p(e, 'left') else 'was removed'}",
        url="/members/",
    ),
    Rule(
        "invitation.sent",
        admins,
        lambda e: f"{_p(e, 'email')} was invited as {_role(_p(e, 'role'))}",
        url="/members/",
    ),
    Rule(
        "invitation.accepted",
        lambda e: [i for i in [_p(e, "invited_by_id", None)] if i],
        lambda e: f"{_p(e, 'email')} accepted your invitation",
        url="/members/",
    ),
    Rule(
        "organisation.settings_changed",
        admins,
        lambda e: "Organisation settings changed: " + ", ".join(sorted(_p(e, "changes", {}))),
        url="/settings/",
    ),
    Rule(
        "webhook.endpoint_disabled",
        admins,
        lambda e: f"Webhook endpoint {_p(e, 'url')} was disabled",
        url="/webhooks/",
        body=lambda e: _p(e, "reason"),
        default_channel=Channel.BOTH,
    ),
]:
    rule_register(_rule)
