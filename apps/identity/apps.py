from apps.core.appconfig import HubAppConfig, Schema


class IdentityConfig(HubAppConfig):
    """Users, memberships and roles, invitations, the hand-over between hosts, and the tenant
    dashboard pages every member sees (home, members, organisation settings, profile).

    Also: second factors (django-otp devices: authenticator apps with encrypted keys,
    hashed recovery codes, codes by email and SMS), the second-factor log-in stage, passwordless
    log-in by email code (allauth), SAML single sign-on per tenant (djangosaml2), the Sessions
    page, the log-in lock-out and security events in the audit log.

    SHARED app: users, memberships, invitations, MFA devices and recovery codes, browser-session
    records and each tenant's security/SSO settings (TenantSecurity, one row per tenant) live in
    the public schema: a person has one account and one set of factors for every tenant they
    belong to, and the log-in pages read a tenant's policy without switching schemas. Security
    events are written to the audit log of the schema being served, like every other change.

    Its pages are mounted at the root of the tenant and public sites (url_prefix "").
    """

    name = "apps.identity"
    label = "identity"
    schema = Schema.SHARED
    url_prefix = ""
    api_prefix = ""  # /api/v1/members/, /api/v1/invitations/, /api/v1/audit-log/

    def ready(self):
        from auditlog.registry import auditlog
        from django.core import checks

        from apps.core.registry import (
            ApiScope,
            ChecklistItem,
            GraphQLType,
            NavItem,
            SearchProvider,
            Widget,
            register_api_scope,
            register_backup_part,
            register_checklist_item,
            register_event_type,
            register_graphql_type,
            register_nav_item,
            register_notification_rule,
            register_permission,
            register_search_provider,
            register_widget,
        )
        from apps.tenancy.models import Tenant

        from . import signals  # noqa: F401  (log-in/log-out bookkeeping)
        from .backup import BACKUP_PARTS
        from .events import EVENT_TYPES, NOTIFICATION_RULES
        from .mfa import user_has_factor
        from .models import Membership, TenantSecurity, User
        from .roles import PERMISSIONS, check_permission_roles
        from .selectors import member_search, someone_invited

        auditlog.register(Tenant)
        auditlog.register(Membership, exclude_fields=["home_layout"])  # a member's own page layout
        auditlog.register(User, exclude_fields=["password", "last_login"])
        auditlog.register(TenantSecurity, exclude_fields=["idp_metadata_xml", "updated"])

        register_permission(*PERMISSIONS)
        from .graphql import ROOT_FIELDS, IdentityMutation, IdentityQuery, Invitation, Member

        register_graphql_type(
            GraphQLType(
                "Member", Member, ROOT_FIELDS, "Members and invitations.",
                query=IdentityQuery, mutation=IdentityMutation,
            ),
            GraphQLType("Invitation", Invitation, description="A pending invitation."),
        )  # fmt: skip
        register_api_scope(
            ApiScope("identity", "Who belongs to the organisation, their roles, and invitations.", label="Members"),
            ApiScope("audit", "Who changed what, and when.", read_only=True, label="Audit log"),
        )
        register_event_type(*EVENT_TYPES)
        register_notification_rule(*NOTIFICATION_RULES)
        register_backup_part(*BACKUP_PARTS)
        register_nav_item(
            NavItem("Home", "home", icon="home", weight=0),
            NavItem("Members", "members", icon="users", permission="members.view", weight=80),
            NavItem("Audit log", "audit_log", icon="list", permission="audit.view", weight=85),
            NavItem("Settings", "organisation_settings", icon="settings", permission="settings.change", weight=90),
            NavItem("Log-in & SSO", "security_settings", icon="settings", permission="settings.change", weight=92),
            NavItem("My security", "security", icon="settings", weight=95),
        )
        register_widget(
            Widget("identity.getting_started", "Getting started", "identity/widgets/getting_started.html", weight=0)
        )
        register_checklist_item(
            ChecklistItem(
                "identity.invite",
                "Invite someone",
                "members",
                someone_invited,
                description="Bring a colleague in: they get an email with a link to join.",
                permission="members.invite",
                weight=10,
            ),
            ChecklistItem(
                "identity.mfa",
                "Turn on two-factor authentication",
                "security",
                lambda *, tenant, user: user_has_factor(user=user),
                description="A code from your phone or a passkey, on top of your password.",
                weight=20,
            ),
        )
        register_search_provider(SearchProvider("members", "Members", member_search, permission="members.view"))
        checks.register(check_permission_roles, "hub")
        # Personal data: the person's account, membership, sessions and factors (compliance).
        from apps.core.registry import DataEraser, DataExporter, register_data_eraser, register_data_exporter

        from . import personal_data

        register_data_exporter(
            DataExporter(
                "identity", "Account and membership", personal_data.personal_data_export, holds=personal_data.HOLDS
            )
        )
        register_data_eraser(DataEraser("identity", "Account and membership", personal_data.personal_data_erase))
