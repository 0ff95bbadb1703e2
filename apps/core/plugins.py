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
"""

from importlib.metadata import entry_points

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import version as hub
from .appconfig import HubAppConfig, Schema
from .registry import Plugin, register_plugin, registering_for

ENTRY_POINT_GROUP = "reactdjango_hub.plugins"
_MISSING = object()


class PluginConfig(HubAppConfig):
    default = False
    schema = Schema.TENANT  # a plugin's data is a tenant's unless it says otherwise
    version = ""  # the plugin's own version (required)
    author = ""
    description = ""
    min_hub_version = ""  # oldest hub version supported ("" = any)
    max_hub_version = ""  # newest hub version supported, inclusive ("1" = any 1.x.y; "" = any)
    required_settings: tuple[str, ...] = ()  # settings that must be set (and not empty)

    def __init__(self, app_name, app_module):
        super().__init__(app_name, app_module)
        self.check_compatibility(hub.__version__)
        self.check_settings()
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
