from apps.core.appconfig import HubAppConfig, Schema


class IntegrationsConfig(HubAppConfig):
    """The integration hub: a tenant's connections to outside services (credentials stored
    encrypted: API key, basic, bearer, OAuth 2.0 with refresh, secret webhook addresses), ready
    connectors (Slack, Teams, Discord, GitHub, GitLab, Jira, HTTP/JSON, SMTP, the hub's own API)
    and imported OpenAPI documents, whose actions are workflow nodes "<connector>.<action>".

    TENANT app: a tenant's connections and imported documents live in its own schema (its
    secrets never share a table with another tenant's).
    """

    name = "apps.integrations"
    label = "integrations"
    schema = Schema.TENANT

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
            register_workflow_node,
        )

        from .actions import nodes
        from .events import EVENT_TYPES
        from .models import ApiSpec, Connection

        register_permission(
            Permission(
                "integrations.view",
                "Integrations: see connections",
                role="member",
                description="See the connections to outside services (never their secrets) and the imported APIs.",
            ),
            Permission(
                "integrations.edit",
                "Integrations: manage connections",
                role="admin",
                description="Add, change, test and delete connections and their credentials; import APIs.",
            ),
        )
        register_nav_item(NavItem("Integrations", "integrations:index", permission="integrations.view", weight=60))
        from apps.core.registry import GraphQLType, register_graphql_type

        from . import graphql

        register_graphql_type(
            GraphQLType(
                "Connection", graphql.Connection, graphql.ROOT_FIELDS, "Connections to outside services.",
                query=graphql.IntegrationsQuery, mutation=graphql.IntegrationsMutation,
            ),
            GraphQLType("ConnectionTest", graphql.ConnectionTest, description="What testing a connection found."),
        )  # fmt: skip
        register_api_scope(
            ApiScope(
                "integrations", "Integrations: connections to outside services and imported APIs.", label="Integrations"
            )
        )
        register_event_type(*EVENT_TYPES)
        register_workflow_node(*nodes())
        auditlog.register(Connection, exclude_fields=["secrets"])  # who changed which connection, never its secrets
        auditlog.register(ApiSpec, exclude_fields=["operations"])
        # Personal data: who added each connection and imported API (the compliance data inventory).
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "integrations",
            "Integrations",
            (
                PersonalData(
                    "integrations.Connection", ("activity",), ("name", "connector", "created"),
                    "Who added each connection to an outside service (never its secrets).",
                ),
                PersonalData(
                    "integrations.ApiSpec", ("activity",), ("key", "title", "created"), "Who imported each API."
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
