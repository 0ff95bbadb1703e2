from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel: the registry, the CSP middleware, the UI shell's templates and assets.

    Imports no other app of the hub. Has no models of its own.
    """

    name = "apps.core"
    label = "core"
