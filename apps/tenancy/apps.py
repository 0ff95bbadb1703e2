from django.apps import AppConfig


class TenancyConfig(AppConfig):
    """Tenants, their domains and plans; provisioning, routing and the tenant commands.

    SHARED app: its tables live in the public schema only.
    """

    name = "apps.tenancy"
    label = "tenancy"

    def ready(self):
        from . import signals  # noqa: F401  (drops routing caches when a tenant or domain changes)
