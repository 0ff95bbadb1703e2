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
    api_prefix = ""  # /api/v1/flags/ and /api/v1/experiments/ (api/urls.py)

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core.registry import (
            ApiScope,
            GraphQLType,
            NavItem,
            Permission,
            register_api_scope,
            register_event_type,
            register_graphql_type,
            register_nav_item,
            register_permission,
        )

        from . import graphql
        from .events import EVENT_TYPES
        from .models import DeclaredProperty, Experiment, Flag, FlagVersion

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
        register_nav_item(NavItem("Experiments", "flags:experiments", permission="flags.view", weight=51))
        register_api_scope(ApiScope("flags", "Feature flags: evaluate them and read their rules.", label="Flags"))
        register_event_type(*EVENT_TYPES)
        register_graphql_type(
            GraphQLType(
                "Flag", graphql.Flag, graphql.ROOT_FIELDS, "Feature flags.",
                query=graphql.FlagsQuery, mutation=graphql.FlagsMutation,
            )
        )  # fmt: skip
        auditlog.register(Flag)  # who changed which flag, in the tenant's audit log
        auditlog.register(FlagVersion)
        auditlog.register(Experiment)
        auditlog.register(DeclaredProperty)
        # Personal data: who made each flag, version, experiment and declared property (the compliance
        # data inventory).
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "flags",
            "Feature flags",
            (
                PersonalData("flags.Flag", ("activity",), ("key", "created"), "Who created each feature flag."),
                PersonalData(
                    "flags.FlagVersion", ("activity",), ("flag_id", "version", "note", "created"),
                    "Who changed each feature flag, in its history.",
                ),
                PersonalData(
                    "flags.Experiment", ("activity",), ("name", "status", "created"), "Who created each experiment."
                ),
                PersonalData(
                    "flags.DeclaredProperty", ("activity",), ("kind", "key", "created"),
                    "Who declared each person or event property flags and experiments target.",
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
