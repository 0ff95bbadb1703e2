from django.apps import AppConfig


class IdentityConfig(AppConfig):
    """Users, memberships and roles, invitations, the hand-over between hosts, and the tenant
    dashboard pages every member sees (home, members, organisation settings, profile).

    SHARED app: users, memberships and invitations live in the public schema; a person has one
    account and may belong to many tenants.
    """

    name = "apps.identity"
    label = "identity"

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core.registry import NavItem, registry
        from apps.tenancy.models import Tenant

        from .models import Membership, User

        auditlog.register(Tenant)
        auditlog.register(Membership)
        auditlog.register(User, exclude_fields=["password", "last_login"])

        registry["nav_items"].extend(
            [
                NavItem("Home", "home", icon="home", weight=0),
                NavItem("Members", "members", icon="users", permission="members.view", weight=80),
                NavItem("Settings", "organisation_settings", icon="settings", permission="settings.change", weight=90),
            ]
        )
