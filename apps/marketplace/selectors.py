"""Reads: the plugins installed on the platform, and what this tenant made of them."""

from dataclasses import dataclass

from django.db import connection
from django_tenants.utils import get_public_schema_name

from apps.core.caching import cached_selector
from apps.core.plugins import PLUGIN_PERMISSIONS
from apps.core.registry import Plugin, registry

from .models import PluginInstall


def installed_plugins() -> list[Plugin]:
    """The plugins installed on the platform (HUB_PLUGINS and pip-installed ones), by name."""
    return sorted(registry["plugins"].values(), key=lambda p: p.name.casefold())


def plugin_get(label: str) -> Plugin | None:
    return registry["plugins"].get(label)


def permission_words(plugin: Plugin) -> list[str]:
    """What the plugin asks for, as a tenant's admin reads it."""
    return [PLUGIN_PERMISSIONS[code] for code in plugin.asks_for]


def _enabled_labels() -> frozenset[str]:
    states = dict(PluginInstall.objects.values_list("label", "state"))
    enabled = {label for label, state in states.items() if state == PluginInstall.State.ENABLED}
    return frozenset(
        enabled | {p.label for p in registry["plugins"].values() if p.default_enabled and p.label not in states}
    )


@cached_selector(topics=("plugin",))
def _enabled_cached() -> frozenset[str]:
    return _enabled_labels()


def enabled_plugins() -> frozenset[str]:
    """The labels of the plugins enabled in the tenant being served (the registry's source for
    registry.active): those enabled here, and the default-enabled ones nobody turned off. None
    on the public site."""
    if connection.schema_name == get_public_schema_name():
        return frozenset()
    return _enabled_cached()


def install_list():
    """This tenant's rows, one per installed plugin (plugins_sync makes the missing ones)."""
    return PluginInstall.objects.filter(label__in=list(registry["plugins"])).order_by("label")


def install_get(label: str) -> PluginInstall | None:
    return PluginInstall.objects.filter(label=label).first()


@dataclass(frozen=True)
class PluginSettings:
    values: dict  # the settings, secrets included (decrypted): for the plugin's own code only
    configured: bool


def plugin_settings(label: str) -> PluginSettings:
    """A plugin's settings in the tenant being served, secrets decrypted (for the plugin's code)."""
    import json

    install = install_get(label)
    if install is None:
        return PluginSettings({}, False)
    secrets = json.loads(install.secrets) if install.secrets else {}
    return PluginSettings({**install.config, **secrets}, bool(install.config or secrets))
