from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The integrator API's plumbing: API keys, authentication, permissions by role and key scope,
    rate limits, versioning, problem+json errors, idempotency, usage metering, the OpenAPI schema
    and its documentation pages, and the v1 router that mounts each app's `api/urls.py`.

    TENANT app: API keys, their daily usage and idempotency records live in each tenant's own
    schema (a key can only ever be found on its own tenant's domain). Its code (commands, pages,
    middleware) is installed everywhere.
    """

    name = "apps.api"
    label = "api"

    def ready(self):
        from apps.core.registry import NavItem, registry

        from . import scopes, signals  # noqa: F401  (signals: drop cached keys when a membership changes)

        registry["nav_items"].append(
            NavItem("API keys", "api_keys", icon="key", permission="api_keys.manage", weight=95)
        )
        scopes.register("tenancy", "The organisation: its name and plan.")
        scopes.register("identity", "Members and invitations.")
        scopes.register("audit", "The audit log.", read_only=True)
        scopes.register("api", "API keys and their usage.")
