"""The event types of the platform foundation (tenancy, identity), declared in the registry.

They are declared here rather than in the apps that publish them because those apps sit below
the event spine; apps above it declare their own types in their AppConfig.ready().
"""

from apps.core.registry import EventType, registry


def _object(properties: dict, required: list[str]) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_ROLE = {"type": "string", "enum": ["owner", "admin", "member", "viewer"]}
_ID = {"type": "integer"}
_EMAIL = {"type": "string", "format": "email"}

FOUNDATION_EVENT_TYPES = [
    EventType(
        "member.joined",
        "Someone became a member of the organisation (for example by accepting an invitation).",
        _object({"membership_id": _ID, "user_id": _ID, "email": _EMAIL, "role": _ROLE}, ["user_id", "email", "role"]),
    ),
    EventType(
        "member.role_changed",
        "A member's role was changed.",
        _object(
            {"membership_id": _ID, "user_id": _ID, "email": _EMAIL, "old_role": _ROLE, "new_role": _ROLE},
            ["user_id", "email", "old_role", "new_role"],
        ),
    ),
    EventType(
        "member.removed",
        "A member was removed from the organisation, or left it.",
        _object(
            {"membership_id": _ID, "user_id": _ID, "email": _EMAIL, "role": _ROLE, "left": {"type": "boolean"}},
            ["user_id", "email", "role", "left"],
        ),
    ),
    EventType(
        "invitation.sent",
        "An invitation to join the organisation was sent.",
        _object(
            {"invitation_id": _ID, "email": _EMAIL, "role": _ROLE, "expires_at": {"type": "string"}},
            ["invitation_id", "email", "role"],
        ),
    ),
    EventType(
        "invitation.accepted",
        "An invitation was accepted: the invited person is now a member.",
        _object(
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
    EventType(
        "organisation.settings_changed",
        "The organisation's settings (such as its name) were changed.",
        _object(
            {
                "changes": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {"old": {}, "new": {}},
                        "required": ["old", "new"],
                    },
                }
            },
            ["changes"],
        ),
    ),
]


def register() -> None:
    for event_type in FOUNDATION_EVENT_TYPES:
        if event_type.name not in registry["event_types"]:
            registry.register_event_type(event_type)
