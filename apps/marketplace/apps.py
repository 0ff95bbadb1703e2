from apps.core.appconfig import HubAppConfig, Schema


class MarketplaceConfig(HubAppConfig):
    """The marketplace, its first part: plugins per tenant. A plugin is installed platform-wide
    (HUB_PLUGINS) and enabled per tenant here: enabling runs its tenant migrations in that schema
    only, after the tenant's admin has seen what it asks for; its settings are validated against
    its JSON Schema (secrets encrypted); disabling hides everything it adds (registry.active),
    keeping its data; uninstalling archives or removes its data. A plugin that fails (its handler
    raises, its migration fails) is disabled for that tenant with the reason.

    TENANT app: which plugins a tenant enabled, and their settings, are that tenant's (one row
    per plugin in its schema), read beside the plugins' own tenant tables.
    """

    name = "apps.marketplace"
    label = "marketplace"
    schema = Schema.TENANT

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core.plugins import set_failure_sink
        from apps.core.registry import (
            NavItem,
            Permission,
            register_api_scope,
            register_event_type,
            register_nav_item,
            register_permission,
            registry,
        )

        from . import selectors, services
        from .events import API_SCOPE, EVENT_TYPES
        from .models import PluginArchive, PluginInstall

        register_permission(
            Permission(
                "marketplace.manage",
                "Plugins: enable, configure and remove",
                role="admin",
                description="See the installed plugins, enable them for the organisation, change their settings, "
                "disable and uninstall them.",
            ),
        )
        register_nav_item(NavItem("Plugins", "marketplace:index", permission="marketplace.manage", weight=90))
        from apps.core.registry import GraphQLType, register_graphql_type

        from . import graphql

        register_graphql_type(
            GraphQLType(
                "Plugin", graphql.Plugin, graphql.ROOT_FIELDS, "Plugins and their state here.",
                query=graphql.MarketplaceQuery, mutation=graphql.MarketplaceMutation,
            )
        )  # fmt: skip
        register_api_scope(API_SCOPE)
        register_event_type(*EVENT_TYPES)
        auditlog.register(PluginInstall, exclude_fields=["secrets"])
        auditlog.register(PluginArchive, exclude_fields=["data"])  # who archived or deleted which data, not the rows
        # Personal data: who last changed each plugin and who archived a plugin's data (the
        # compliance data inventory). The archived rows are the plugin's own data, not declared here.
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "marketplace",
            "Plugins",
            (
                PersonalData(
                    "marketplace.PluginInstall", ("activity",), ("label", "state", "changed"),
                    "Who last enabled, configured or disabled each plugin.",
                ),
                PersonalData(
                    "marketplace.PluginArchive", ("activity",), ("label", "version", "rows", "created"),
                    "Who uninstalled a plugin keeping its data as an archive.",
                    note="The archived rows are the plugin's data as it was, with user ids: erasure does not yet "
                    "reach into them (deleting the archive does).",
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
        registry.set_enabled_plugins(selectors.enabled_plugins)
        set_failure_sink(services.plugin_mark_broken)
