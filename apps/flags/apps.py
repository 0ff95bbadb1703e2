from apps.core.appconfig import HubAppConfig, Schema


class FlagsConfig(HubAppConfig):
    """Feature flags: a tenant rolls features out to its own users (rules on person properties,
    cohorts and organisations, percentage rollouts, variants with payloads, overrides, a kill
    switch, a schedule, dependencies), evaluated by its API and PostHog's SDKs.

    TENANT app: a tenant's flags and their versions live in its own schema, beside the analytics
    persons and cohorts they target. Its pages are mounted at the root (url_prefix ""): PostHog's
    SDKs call /flags/, /decide/ and /flags/definitions on the host they are given.
    The platform's own flags are public-schema rows of apps.flags.platform (a SHARED app).
    """

    name = "apps.flags"
    label = "flags"
    schema = Schema.TENANT
    url_prefix = ""

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core.registry import (
            ApiScope,
            NavItem,
            Permission,
            register_api_scope,
            register_event_type,
            register_nav_item,
            register_permission,
        )

        from .events import EVENT_TYPES
        from .models import Flag, FlagVersion

        register_permission(
            Permission(
                "flags.view",
                "Flags: see feature flags",
                role="viewer",
                description="See the feature flags, their rules and history, and evaluate them.",
            ),
            Permission(
                "flags.edit",
                "Flags: change feature flags",
                role="member",
                description="Create, change, switch off, roll back and delete feature flags.",
            ),
        )
        register_nav_item(NavItem("Feature flags", "flags:index", permission="flags.view", weight=50))
        register_api_scope(ApiScope("flags", "Feature flags: evaluate them and read their rules.", label="Flags"))
        register_event_type(*EVENT_TYPES)
        auditlog.register(Flag)  # who changed which flag, in the tenant's audit log
        auditlog.register(FlagVersion)
