from apps.core.appconfig import HubAppConfig, Schema


class ApiConfig(HubAppConfig):
    """The integrator API's plumbing: API keys and their authentication, rate limits and usage
    metering, idempotency, the documentation pages, and the v1 router that mounts each app's
    `api/urls.py`. What every endpoint shares (base views, permissions by role and key scope,
    problem+json errors, versioning, the OpenAPI details) is apps.core.api; apps.api plugs its
    parts in through settings (REST_FRAMEWORK's authentication and throttle classes,
    HUB_API_IDEMPOTENCY_CLASS).

    TENANT app: API keys, their daily usage and idempotency records live in each tenant's own
    schema (a key can only ever be found on its own tenant's domain). Its code (commands, pages,
    middleware) is installed everywhere.

    Its pages (the API keys page and the API reference) are mounted at /developers/; its
    `urls.py` is the /api/ router itself, which config/urls_tenant.py mounts first; its own
    endpoints (`endpoints/urls.py`: API keys, usage) are mounted like every app's, at the root of
    /api/v1/.
    """

    name = "apps.api"
    label = "api"
    schema = Schema.TENANT
    url_prefix = "developers/"
    urls_module = "pages_urls"
    api_prefix = ""
    api_urls_module = "endpoints.urls"

    def ready(self):
        from apps.core.registry import (
            ApiScope,
            ChecklistItem,
            GraphQLType,
            NavItem,
            PeriodicTask,
            Permission,
            SearchProvider,
            register_api_scope,
            register_checklist_item,
            register_event_type,
            register_graphql_type,
            register_nav_item,
            register_periodic_task,
            register_permission,
            register_search_provider,
        )

        # The OpenAPI description of its authentication classes; signals drop cached keys when a
        # membership changes.
        from . import schema, signals  # noqa: F401
        from .endpoints import graphql
        from .events import EVENT_TYPES
        from .selectors import api_key_exists, api_key_search

        register_permission(Permission("api_keys.manage", "Manage API keys", role="admin"))
        register_nav_item(NavItem("API keys", "api_keys", icon="key", permission="api_keys.manage", weight=95))
        register_api_scope(ApiScope("api", "API keys and their usage.", label="API keys"))
        register_search_provider(SearchProvider("api_keys", "API keys", api_key_search, permission="api_keys.manage"))
        register_event_type(*EVENT_TYPES)
        register_graphql_type(
            GraphQLType(
                "ApiKey", graphql.ApiKey, graphql.ROOT_FIELDS, "API keys.",
                query=graphql.ApiKeysQuery, mutation=graphql.ApiKeysMutation,
            )
        )  # fmt: skip
        register_checklist_item(
            ChecklistItem(
                "api.key",
                "Create an API key",
                "api_keys",
                api_key_exists,
                description="Let your own systems use the organisation's data through the API.",
                permission="api_keys.manage",
                weight=30,
            )
        )
        # Usage counted in Redis → each tenant's ApiKeyUsage; idempotency records past their time out.
        register_periodic_task(
            PeriodicTask("api-usage-flush", "api.usage_flush", 60.0),
            PeriodicTask("api-idempotency-purge", "api.idempotency_purge", 3600.0),
        )
        # The audit trail (apps.compliance): who made, changed and revoked which key (never its hash;
        # its every use would be an entry per request: last_used_at is left out).
        from auditlog.registry import auditlog

        from .models import ApiKey

        auditlog.register(ApiKey, exclude_fields=["key_hash", "last_used_at"])
        # Personal data: who made each API key (the compliance data inventory). Erasure takes the
        # person's name off their keys; ending the keys themselves is the erasure request's step.
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "api",
            "API keys",
            (
                PersonalData(
                    "api.ApiKey", ("identity", "security"),
                    ("name", "prefix", "scopes", "created_by_email", "created", "expires_at", "revoked_at"),
                    "Who made each API key, to answer for its use.",
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
