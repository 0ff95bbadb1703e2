"""The hub app config: the one place an app declares itself.

Every app of the hub subclasses HubAppConfig in its apps.py:

    class ReportsConfig(HubAppConfig):
        \"\"\"Reports. TENANT app: a tenant's reports live in its own schema.\"\"\"

        name = "apps.reports"
        label = "reports"
        schema = Schema.TENANT

        def ready(self):
            register_nav_item(NavItem("Reports", "reports:index", permission="reports.view"))

- `schema` (required) says where the app's tables live: Schema.SHARED (the public schema, one
  copy for the platform) or Schema.TENANT (each tenant's schema). config/settings/base.py reads
  it to build django-tenants' SHARED_APPS and TENANT_APPS, so apps.py modules import nothing at
  module level but django.apps and apps.core's appconfig and registry.
- Its `urls.py` is mounted on the tenant site under `url_prefix` (default: "<label>/"; "" mounts
  it at the root), its `urls_public.py` on the public site the same way, and its `api/urls.py`
  under /api/v1/<api_prefix> (default: "<label>/"). Plugins are mounted under plugins/<label>/.
- Whatever ready() registers is recorded as the app's (registry.app_of()).
"""

import enum
import functools
from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured

from .registry import registering_for


class Schema(enum.StrEnum):
    SHARED = "shared"
    TENANT = "tenant"


class HubAppConfig(AppConfig):
    default = False  # the base itself is never an app's config (Django picks the one subclass)
    schema: Schema  # required: where the app's tables live (a one-way door: say why in the docstring)
    url_prefix: str | None = None  # tenant (and public) pages: None = "<label>/", "" = the root
    api_prefix: str | None = None  # under /api/v1/: None = "<label>/"
    urls_module = "urls"  # the pages' URLconf, relative to the app's package
    public_urls_module = "urls_public"
    api_urls_module = "api.urls"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not isinstance(getattr(cls, "schema", None), Schema):
            raise ImproperlyConfigured(
                f"{cls.__module__}.{cls.__qualname__} must say where its tables live: "
                "schema = Schema.SHARED or Schema.TENANT (from apps.core.appconfig)"
            )
        if "default" not in cls.__dict__:
            cls.default = True  # an app's apps.py also holds the imported base class
        if "ready" in cls.__dict__:
            cls.ready = _registering(cls.__dict__["ready"])

    # --- mounts ---------------------------------------------------------------------------------

    def page_mount(self) -> str:
        return _prefix(self.url_prefix, self.label)

    def api_mount(self) -> str:
        return _prefix(self.api_prefix, self.label)

    def urlconf(self, kind: str):
        """The app's URLconf module of `kind` ("urls", "public_urls" or "api_urls"), or None."""
        module = f"{self.name}.{getattr(self, f'{kind}_module')}"
        try:
            found = find_spec(module)
        except ModuleNotFoundError:
            found = None
        return import_module(module) if found is not None else None


def _prefix(prefix: str | None, label: str) -> str:
    prefix = f"{label}/" if prefix is None else prefix
    return prefix if not prefix or prefix.endswith("/") else f"{prefix}/"


def _registering(ready):
    @functools.wraps(ready)
    def wrapper(self, *args, **kwargs):
        with registering_for(self.label):
            return ready(self, *args, **kwargs)

    return wrapper


# --- Settings time: which hub apps are SHARED, which TENANT -------------------------------------


def config_class(entry: str) -> type[HubAppConfig]:
    """The HubAppConfig subclass of an INSTALLED_APPS entry (an app module, or the dotted path of
    its config class), found as Django does: the app's apps.py holds one config class, or one
    marked `default = True`. Imports only that apps.py (fine at settings time)."""
    module_name, _, class_name = entry.rpartition(".")
    if class_name[:1].isupper():
        cls = getattr(import_module(module_name), class_name, None)
        if isinstance(cls, type) and issubclass(cls, HubAppConfig):
            return cls
        raise ImproperlyConfigured(f"{entry} is not a hub app config (a subclass of HubAppConfig)")
    try:
        module = import_module(f"{entry}.apps")
    except ModuleNotFoundError as exc:
        raise ImproperlyConfigured(f"{entry}: no such app, or it has no apps.py ({exc})") from exc
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, HubAppConfig) and value.__module__ == module.__name__
    ]
    if len(found) > 1:
        found = [cls for cls in found if cls.__dict__.get("default")]
    if len(found) != 1:
        raise ImproperlyConfigured(
            f"{entry}.apps must define one subclass of HubAppConfig (or mark one default = True)"
        )
    return found[0]


def split_by_schema(entries: list[str]) -> tuple[list[str], list[str]]:
    """(shared, tenant): the entries whose config says Schema.SHARED, and those saying TENANT."""
    shared, tenant = [], []
    for entry in entries:
        (shared if config_class(entry).schema == Schema.SHARED else tenant).append(entry)
    return shared, tenant
