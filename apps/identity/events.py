"""The event types identity publishes, and who is notified of them (identity's and tenancy's:
the recipients are members by role, which identity owns)."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType, NotificationRule, actor_name

from .roles import Role
from .selectors import event_admin_ids, user_name

_ROLE = {"type": "string", "enum": list(Role.values)}
_ID = {"type": "integer"}
_EMAIL = {"type": "string", "format": "email"}


def _p(event, key, default=""):
    return event.payload.get(key, default)


def _role(value) -> str:
    return dict(Role.choices).get(value, value or "")


def _member(event) -> str:
    """The name of the member an event is about (their email if they have no name)."""
    return user_name(_p(event, "user_id", None), fallback=_p(event, "email"))


def _members_page(event) -> str:
    return reverse("members")


def _invitations(event) -> str:
    return reverse("members") + "#pending-invitations"


def _joined(event) -> str:
    return f"{_member(event)} joined as {_role(_p(event, 'role')).lower()}"


def _role_changed(event) -> str:
    actor, new = actor_name(event), _role(_p(event, "new_role"))
    if actor and event.actor_id != _p(event, "user_id", None):
        return f"{actor} changed {_member(event)}'s role to {new}"
    return f"{_member(event)}'s role was changed to {new}"


def _removed(event) -> str:
    if _p(event, "left", False):
        return f"{_member(event)} left the organisation"
    actor = actor_name(event)
    return f"{actor} removed {_member(event)}" if actor else f"{_member(event)} was removed"


def _sent(event) -> str:
    role, actor = _role(_p(event, "role")).lower(), actor_name(event)
    if actor:
        return f"{actor} invited {_p(event, 'email')} as {role}"
    return f"{_p(event, 'email')} was invited as {role}"


def _accepted(event) -> str:
    inviter = user_name(_p(event, "invited_by_id", None))
    whose = f"{inviter}'s invitation" if inviter else "an invitation"
    return f"{_member(event)} accepted {whose}"


EVENT_TYPES = [
    EventType(
        "member.joined",
        "Member joined",
        "Someone became a member of the organisation (for example by accepting an invitation).",
        payload_schema(
            {"membership_id": _ID, "user_id": _ID, "email": _EMAIL, "role": _ROLE}, ["user_id", "email", "role"]
        ),
        summary=_joined,
        link=_members_page,
    ),
    EventType(
        "member.role_changed",
        "Member's role changed",
        "A member's role was changed.",
        payload_schema(
            {"membership_id": _ID, "user_id": _ID, "email": _EMAIL, "old_role": _ROLE, "new_role": _ROLE},
            ["user_id", "email", "old_role", "new_role"],
        ),
        summary=_role_changed,
        link=_members_page,
    ),
    EventType(
        "member.removed",
        "Member removed",
        "A member was removed from the organisation, or left it.",
        payload_schema(
            {"membership_id": _ID, "user_id": _ID, "email": _EMAIL, "role": _ROLE, "left": {"type": "boolean"}},
            ["user_id", "email", "role", "left"],
        ),
        summary=_removed,
        link=_members_page,
    ),
    EventType(
        "invitation.sent",
        "Invitation sent",
        "An invitation to join the organisation was sent.",
        payload_schema(
            {"invitation_id": _ID, "email": _EMAIL, "role": _ROLE, "expires_at": {"type": "string"}},
            ["invitation_id", "email", "role"],
        ),
        summary=_sent,
        link=_invitations,
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
        summary=_accepted,
        link=_members_page,
    ),
]


def _member_and_admins(event):
    return {*event_admin_ids(event), _p(event, "user_id")}


def _inviter(event):
    return [i for i in [_p(event, "invited_by_id", None)] if i]


# Their titles are the event types' sentences, their links the events' links.
NOTIFICATION_RULES = [
    NotificationRule("member.joined", event_admin_ids),
    NotificationRule("member.role_changed", _member_and_admins, default_channel="both"),
    NotificationRule("member.removed", event_admin_ids),
    NotificationRule("invitation.sent", event_admin_ids),
    NotificationRule("invitation.accepted", _inviter),
    NotificationRule("organisation.settings_changed", event_admin_ids),
]
