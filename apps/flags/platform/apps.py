from apps.core.appconfig import HubAppConfig, Schema


class PlatformFlagsConfig(HubAppConfig):
    """Platform flags: the hub's own features switched per tenant or plan, evaluated by the same
    engine as tenants' flags (apps/flags/engine.py) with the tenant's slug as the distinct id and
    its plan (and slug) as properties.

    SHARED app: the platform's operators own these rows, one set for every tenant, so they live
    in the public schema (a tenant's own flags are in apps.flags, in its schema).
    """

    name = "apps.flags.platform"
    label = "platform_flags"
    schema = Schema.SHARED

    def ready(self):
        from auditlog.registry import auditlog

        from .models import PlatformFlag

        auditlog.register(PlatformFlag)  # in the platform audit log: who switched what, when
