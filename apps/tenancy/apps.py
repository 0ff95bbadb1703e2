from apps.core.appconfig import HubAppConfig, Schema


class TenancyConfig(HubAppConfig):
    """Tenants, their domains and plans; provisioning, routing and the tenant commands.

    SHARED app: its tables live in the public schema only (the router finds a tenant there
    before any tenant schema is chosen).
    """

    name = "apps.tenancy"
    label = "tenancy"
    schema = Schema.SHARED
    api_prefix = ""  # /api/v1/tenant/

    def ready(self):
        from django.core import checks

        from apps.core.registry import (
            ApiScope,
            BackupPart,
            GraphQLType,
            Permission,
            register_api_scope,
            register_backup_part,
            register_event_type,
            register_graphql_type,
            register_permission,
        )

        from . import signals  # noqa: F401  (drops routing caches when a tenant or domain changes)
        from .regions import check_regions

        checks.register(check_regions, "hub")
        from .backup import adjust_domain
        from .events import EVENT_TYPES

        register_event_type(*EVENT_TYPES)
        register_permission(
            Permission("tenant.view", "See the organisation", role="viewer"),
            Permission("settings.change", "Change the organisation's settings", role="admin"),
            Permission("tenant.delete", "Delete the organisation", role="owner"),
        )
        register_api_scope(ApiScope("tenancy", "The organisation's name and plan.", label="Organisation"))
        from . import graphql

        register_graphql_type(
            GraphQLType(
                "Organisation", graphql.Organisation, graphql.ROOT_FIELDS, "The organisation.",
                query=graphql.TenancyQuery, mutation=graphql.TenancyMutation,
            )
        )  # fmt: skip
        register_backup_part(
            BackupPart("tenancy.Domain", adjust=adjust_domain),
            BackupPart("tenancy.Tenant", skip_reason="the tenant row itself is written by the restore"),
        )
