"""The event types identity publishes, and who is notified of them (identity's and tenancy's:
the recipients are members by role, which identity owns)."""

from apps.core.events import payload_schema
from apps.core.registry import EventType, NotificationRule

from .roles import Role
from .selectors import event_admin_ids

_ROLE = {"type": "string", "enum": list(Role.values)}
_ID = {"type": "integer"}
_EMAIL = {"type": "string", "format": "email"}

EVENT_TYPES = [
    EventType(
        "member.joined",
        "Member joined",
        "Someone became a member of the organisation (for example by accepting an invitation).",
        payload_schema(
            {"membership_id": _ID, "user_id": _ID, "email": _EMAIL, "role": _ROLE}, ["user_id", "email", "role"]
        ),
    ),
    EventType(
        "member.role_changed",
        "Member's role changed",
        "A member's role was changed.",
        payload_schema(
            {"membership_id": _ID, "user_id": _ID, "email": _EMAIL, "old_role": _ROLE, "new_role": _ROLE},
            ["user_id", "email", "old_role", "new_role"],
        ),
    ),
    EventType(
        "member.removed",
        "Member removed",
        "A member was removed from the organisation, or left it.",
        payload_schema(
            {"membership_id": _ID, "user_id": _ID, "email": _EMAIL, "role": _ROLE, "left": {"type": "boolean"}},
            ["user_id", "email", "role", "left"],
        ),
    ),
    EventType(
        "invitation.sent",
        "Invitation sent",
        "An invitation to join the organisation was sent.",
        payload_schema(
            {"invitation_id": _ID, "email": _EMAIL, "role": _ROLE, "expires_at": {"type": "string"}},
            ["invitation_id", "email", "role"],
        ),
    ),
    EventType(
        "invitation.accepted",
        "Invitation accepted",
        "An invitation was accepted: the invited person is now a member.",
        payload_schema(
            {
                "invitation_id": _ID,
                "email": _EMAIL,
                "role": _ROLE,
                "user_id": _ID,
                "invited_by_id": {"type": ["integer", "null"]},
            },
            ["invitation_id", "email", "role", "user_id"],
        ),
    ),
]


def _p(event, key, default=""):
    return event.payload.get(key, default)


def _role(value) -> str:
    return dict(Role.choices).get(value, value or "").lower()


def _member_and_admins(event):
    return {*event_admin_ids(event), _p(event, "user_id")}


def _inviter(event):
    return [i for i in [_p(event, "invited_by_id", None)] if i]


NOTIFICATION_RULES = [
    NotificationRule(
        "member.joined",
        event_admin_ids,
        lambda e: f"{_p(e, 'email')} joined as {_role(_p(e, 'role'))}",
        url="/members/",
    ),
    NotificationRule(
        "member.role_changed",
        _member_and_admins,
        lambda e: f"{_p(e, 'email')} is now {_role(_p(e, 'new_role'))} (was {_role(_p(e, 'old_role'))})",
        url="/members/",
        default_channel="both",
    ),
    NotificationRule(
        "member.removed",
        event_admin_ids,
        lambda e: f"{_p(e, 'email')} {'left the organisation' if _p(e, 'left') else 'was removed'}",
        url="/members/",
    ),
    NotificationRule(
        "invitation.sent",
        event_admin_ids,
        lambda e: f"{_p(e, 'email')} was invited as {_role(_p(e, 'role'))}",
        url="/members/",
    ),
    NotificationRule(
        "invitation.accepted",
        _inviter,
        lambda e: f"{_p(e, 'email')} accepted your invitation",
        url="/members/",
    ),
    NotificationRule(
        "organisation.settings_changed",
        event_admin_ids,
        lambda e: "Organisation settings changed: " + ", ".join(sorted(_p(e, "changes", {}))),
        url="/settings/",
    ),
]
