"""Plugins: Django apps outside apps/ (in plugins/, or pip-installed) that extend the hub.

A plugin's apps.py subclasses PluginConfig:

    class HelloConfig(PluginConfig):
        name = "plugins.hello"
        label = "hello"
        verbose_name = "Hello"
        version = "1.0.0"
        author = "The hub's authors"
        description = "Greets new members."
        min_hub_version = "0.7"
        required_settings = ("HELLO_GREETING",)

It is enabled platform-wide by listing it in HUB_PLUGINS (or, for a pip-installed package, by an
entry point in the `reactdjango_hub.plugins` group whose value is the app's module). At start-up
the hub checks that it supports the hub's version and that its required settings are set, and
stops with an error naming the plugin otherwise. Its pages are mounted at /plugins/<label>/, its
API at /api/v1/plugins/<label>/; the rest (navigation, widgets, handlers, …) it registers in
ready() like any app.

Installed platform-wide, a plugin is enabled per tenant (apps.marketplace): it declares what it
asks for (`asks_for`, words from PLUGIN_PERMISSIONS, shown before a tenant enables it) and the
JSON Schema of its per-tenant settings (`config_schema`; properties marked `"writeOnly": true`
are secrets, stored encrypted). Everything it registers is hidden where it is not enabled
(registry.active); `default_enabled` plugins are on until a tenant turns them off.
"""

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points

import jsonschema
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import version as hub
from .appconfig import HubAppConfig, Schema
from .registry import Plugin, register_plugin, registering_for, registry

ENTRY_POINT_GROUP = "reactdjango_hub.plugins"
_MISSING = object()

# What a plugin may ask for, in the words a tenant's admin reads before enabling it.
PLUGIN_PERMISSIONS = {
    "events.read": "Read the organisation's activity (who did what, as events)",
    "members.read": "See the organisation's members and their email addresses",
    "network.outbound": "Send data to addresses outside the hub (web hooks of other services)",
    "data.store": "Keep its own records in the organisation's database",
    "home.widgets": "Add cards to members' home pages",
    "pages": "Add pages and navigation items",
    "api": "Add API endpoints reachable with the organisation's API keys",
}


class PluginConfig(HubAppConfig):
    default = False
    schema = Schema.TENANT  # a plugin's data is a tenant's unless it says otherwise
    version = ""  # the plugin's own version (required)
    author = ""
    description = ""
    min_hub_version = ""  # oldest hub version supported ("" = any)
    max_hub_version = ""  # newest hub version supported, inclusive ("1" = any 1.x.y; "" = any)
    required_settings: tuple[str, ...] = ()  # settings that must be set (and not empty)
    asks_for: tuple[str, ...] = ()  # keys of PLUGIN_PERMISSIONS, shown before a tenant enables it
    config_schema: dict = {}  # JSON Schema of its per-tenant settings ("writeOnly": secret)
    default_enabled = False  # on in every tenant until one disables it

    def __init__(self, app_name, app_module):
        super().__init__(app_name, app_module)
        self.check_compatibility(hub.__version__)
        self.check_settings()
        self.check_manifest()
        with registering_for(self.label):
            register_plugin(
                Plugin(
                    label=self.label,
                    name=str(self.verbose_name),
                    version=self.version,
                    author=self.author,
                    description=self.description,
                    min_hub_version=self.min_hub_version,
                    max_hub_version=self.max_hub_version,
                    asks_for=tuple(self.asks_for),
                    config_schema=dict(self.config_schema),
                    default_enabled=self.default_enabled,
                )
            )

    def page_mount(self) -> str:
        return f"plugins/{self.label}/"

    def api_mount(self) -> str:
        return f"plugins/{self.label}/"

    def _fail(self, problem: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"Plugin {self.verbose_name} ({self.name}) {problem}")

    def check_compatibility(self, hub_version: str) -> None:
        if not self.version:
            raise self._fail("declares no version (set `version` in its PluginConfig).")
        try:
            running = hub.parse(hub_version)
            oldest = hub.parse(self.min_hub_version) if self.min_hub_version else None
            newest = _upper_bound(self.max_hub_version) if self.max_hub_version else None
        except ValueError as exc:
            raise self._fail(f"declares a bad hub version: {exc}.") from None
        if (oldest is not None and running < oldest) or (newest is not None and running > newest):
            supported = " to ".join(v for v in (self.min_hub_version, self.max_hub_version) if v)
            if not self.max_hub_version:
                supported = f"{self.min_hub_version} or later"
            elif not self.min_hub_version:
                supported = f"up to {self.max_hub_version}"
            raise self._fail(f"supports hub versions {supported}; this hub is {hub_version}.")

    def check_settings(self) -> None:
        missing = [
            name for name in self.required_settings if getattr(settings, name, _MISSING) in (_MISSING, None, "", [], {})
        ]
        if missing:
            raise self._fail(f"needs these settings, which are not set: {', '.join(missing)}.")

    def check_manifest(self) -> None:
        unknown = [code for code in self.asks_for if code not in PLUGIN_PERMISSIONS]
        if unknown:
            raise self._fail(
                f"asks for unknown permissions: {', '.join(unknown)} (known: {', '.join(PLUGIN_PERMISSIONS)})."
            )
        if self.config_schema:
            try:
                jsonschema.Draft202012Validator.check_schema(self.config_schema)
            except jsonschema.SchemaError as exc:
                raise self._fail(f"declares a bad settings schema: {exc.message}.") from None
            if self.config_schema.get("type") != "object":
                raise self._fail('declares a settings schema that is not of type "object".')


def secret_fields(schema: dict) -> list[str]:
    """The settings a schema marks as secrets (`"writeOnly": true`)."""
    return [name for name, spec in (schema.get("properties") or {}).items() if spec.get("writeOnly")]


@cache
def plugin_of_module(module: str) -> str:
    """The label of the plugin whose code `module` is ("" for the hub's own)."""
    config = apps.get_containing_app_config(module) if module else None
    return config.label if config is not None and config.label in registry["plugins"] else ""


def enabled_here(module: str) -> bool:
    """Whether code of `module` (a view, say) may serve the tenant being served: the hub's always,
    a plugin's only where it is enabled."""
    plugin = plugin_of_module(module)
    return not plugin or plugin in registry.enabled_plugins()


# --- A broken plugin is switched off for its tenant, nothing else breaks ----------------------

_failure_sink: Callable[[str, str], None] | None = None


def set_failure_sink(sink: Callable[[str, str], None] | None) -> None:
    """What to call with (plugin label, reason) when a plugin fails in the tenant being served
    (the marketplace disables it there)."""
    global _failure_sink
    _failure_sink = sink


def plugin_failed(label: str, reason: str) -> None:
    if _failure_sink is not None:
        _failure_sink(label, reason)


def _upper_bound(version: str) -> tuple[int, int, int]:
    """The newest version `version` allows: "1" allows 1.x.y, "1.2" allows 1.2.y."""
    major, minor, patch = hub.parse(version)
    given = len(version.split("-")[0].split("."))
    big = 10**9
    return (major, big, big) if given == 1 else (major, minor, big) if given == 2 else (major, minor, patch)


def discover(configured: list[str]) -> list[str]:
    """The plugins to install: those configured (HUB_PLUGINS), then pip-installed ones found by
    their `reactdjango_hub.plugins` entry point, each once."""
    found = list(dict.fromkeys(configured))
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        entry = entry_point.value.replace(":", ".")  # "package" or "package.apps:TheConfig"
        if entry not in found:
            found.append(entry)
    return found
