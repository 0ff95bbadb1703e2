"""Roles and what each may do. Every tenant page names the permission it needs."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}

_VIEWER = {"tenant.view", "members.view"}
_MEMBER = _VIEWER | {"content.edit"}
_ADMIN = _MEMBER | {"members.invite", "members.manage", "settings.change", "audit.view", "api_keys.manage"}
_OWNER = _ADMIN | {"owners.manage", "tenant.delete", "security.policy"}

PERMISSIONS = {Role.VIEWER: _VIEWER, Role.MEMBER: _MEMBER, Role.ADMIN: _ADMIN, Role.OWNER: _OWNER}


def has_permission(role: str, permission: str) -> bool:
    return not permission or permission in PERMISSIONS.get(role, ())


def can_grant(actor_role: str, role: str) -> bool:
    """A role may hand out roles up to its own; only owners make owners."""
    return RANK[Role(role)] <= RANK[Role(actor_role)]


def can_manage(actor_role: str, target_role: str) -> bool:
    """Admins manage admins and below; only owners manage owners."""
    return RANK[Role(target_role)] <= RANK[Role(actor_role)] and has_permission(actor_role, "members.manage")
