from django.apps import AppConfig


class IdentityConfig(AppConfig):
    """Users, memberships and roles, invitations, the hand-over between hosts, and the tenant
    dashboard pages every member sees (home, members, organisation settings, profile).

    Also (issue 4): second factors (django-otp devices: authenticator apps with encrypted keys,
    hashed recovery codes, codes by email and SMS), the second-factor log-in stage, passwordless
    log-in by email code (allauth), SAML single sign-on per tenant (djangosaml2), the Sessions
    page, the log-in lock-out and security events in the audit log.

    SHARED app: users, memberships, invitations, MFA devices and recovery codes, browser-session
    records and each tenant's security/SSO settings (TenantSecurity, one row per tenant) live in
    the public schema: a person has one account and one set of factors for every tenant they
    belong to, and the log-in pages read a tenant's policy without switching schemas. Security
    events are written to the audit log of the schema being served, like every other change.
    """

    name = "apps.identity"
    label = "identity"

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core.registry import NavItem, registry
        from apps.tenancy.models import Tenant

        from . import signals  # noqa: F401  (log-in/log-out bookkeeping)
        from .models import Membership, TenantSecurity, User

        auditlog.register(Tenant)
        auditlog.register(Membership)
        auditlog.register(User, exclude_fields=["password", "last_login"])
        auditlog.register(TenantSecurity, exclude_fields=["idp_metadata_xml", "updated"])

        registry["nav_items"].extend(
            [
                NavItem("Home", "home", icon="home", weight=0),
                NavItem("Members", "members", icon="users", permission="members.view", weight=80),
                NavItem("Settings", "organisation_settings", icon="settings", permission="settings.change", weight=90),
                NavItem("Log-in & SSO", "security_settings", icon="settings", permission="settings.change", weight=92),
                NavItem("My security", "security", icon="settings", weight=95),
            ]
        )
