"""Roles and what each may do. Every tenant page names the permission it needs.

Permissions are declared by the apps that use them (Permission items in the registry, each with
the lowest role that has it); a role has every permission of the roles below it.
"""

from django.core import checks
from django.db import models

from apps.core.registry import Permission, registry


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}

PERMISSIONS = [
    Permission("members.view", "See the members", role=Role.VIEWER),
    Permission("members.invite", "Invite people and withdraw invitations", role=Role.ADMIN),
    Permission("members.manage", "Change members' roles and remove members", role=Role.ADMIN),
    Permission("audit.view", "Read the audit log", role=Role.ADMIN),
    Permission("owners.manage", "Make and manage owners", role=Role.OWNER),
    Permission("security.policy", "Set the log-in policy (second factors, single sign-on)", role=Role.OWNER),
]


def has_permission(role: str, permission: str) -> bool:
    if not permission:
        return True
    declared = registry["permissions"].get(permission)
    return declared is not None and RANK.get(role, -1) >= RANK.get(declared.role, len(RANK))


def check_permission_roles(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check`: every registered permission names one of the roles."""
    return [
        checks.Error(
            f"permission {p.code!r} (app {registry.app_of('permissions', p.code) or '?'}) names the role {p.role!r}; "
            f"the roles are {', '.join(Role.values)}",
            id="identity.E001",
        )
        for p in registry["permissions"].values()
        if p.role not in Role.values
    ]


def can_grant(actor_role: str, role: str) -> bool:
    """A role may hand out roles up to its own; only owners make owners."""
    return RANK[Role(role)] <= RANK[Role(actor_role)]


def can_manage(actor_role: str, target_role: str) -> bool:
    """Admins manage admins and below; only owners manage owners."""
    return RANK[Role(target_role)] <= RANK[Role(actor_role)] and has_permission(actor_role, "members.manage")
