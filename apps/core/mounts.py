"""The automatic URL mounts: each hub app's URLconfs under its prefixes (see HubAppConfig).

- tenant site: `<app>/urls.py` at `url_prefix` (default "<label>/"),
- public site: `<app>/urls_public.py` at the same prefix,
- the API: `<app>/api/urls.py` at /api/v1/`api_prefix` (default "<label>/"),
- plugins: at plugins/<label>/ on each.
"""

from django.apps import apps
from django.urls import include, path

from .appconfig import HubAppConfig


def hub_app_configs() -> list[HubAppConfig]:
    """The installed hub apps and plugins, in INSTALLED_APPS order."""
    return [config for config in apps.get_app_configs() if isinstance(config, HubAppConfig)]


def _mounted(kind: str, mount: str) -> list:
    patterns = []
    for config in hub_app_configs():
        module = config.urlconf(kind)
        if module is not None:
            patterns.append(path(getattr(config, mount)(), include(module)))
    return patterns


def page_urlpatterns() -> list:
    """The tenant site's pages of every hub app."""
    return _mounted("urls", "page_mount")


def public_urlpatterns() -> list:
    """The public site's pages of every hub app that has some."""
    return _mounted("public_urls", "page_mount")


def api_urlpatterns() -> list:
    """Every hub app's API, for /api/v1/."""
    return _mounted("api_urls", "api_mount")
