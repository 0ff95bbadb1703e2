from .appconfig import HubAppConfig, Schema


class CoreConfig(HubAppConfig):
    """The kernel: the registry and the hub app config, the CSP and time-zone middleware, the UI
    shell's templates and assets, the UI kit (template tags, form renderer, the style guide at
    /style-guide/), the scaffold command, and the base classes of every app's API (apps.core.api).

    Imports no other app of the hub. SHARED app: it has no tables of its own; its code serves
    every host.
    """

    name = "apps.core"
    label = "core"
    schema = Schema.SHARED
    url_prefix = ""  # the style guide at /style-guide/ on every host

    def ready(self):
        from django.core import checks

        from .checks import check_registry

        checks.register(check_registry, "hub")
