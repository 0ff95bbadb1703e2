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
        from .models import PluginInstall

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
        register_api_scope(API_SCOPE)
        register_event_type(*EVENT_TYPES)
        auditlog.register(PluginInstall, exclude_fields=["secrets"])
        registry.set_enabled_plugins(selectors.enabled_plugins)
        set_failure_sink(services.plugin_mark_broken)
