"""The hub app config: every app declares its schema side, from which the settings derive
SHARED_APPS and TENANT_APPS; its pages and API are mounted under its prefixes."""

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import resolve, reverse

from apps.core.appconfig import HubAppConfig, Schema, config_class, split_by_schema
from apps.core.mounts import hub_app_configs
from apps.identity.apps import IdentityConfig
from plugins.hello.apps import HelloConfig


def test_an_app_config_must_say_where_its_tables_live():
    with pytest.raises(ImproperlyConfigured, match="must say where its tables live: schema = Schema.SHARED"):

        class NoSchemaConfig(HubAppConfig):
            name = "apps.nowhere"


def test_every_app_of_the_hub_is_a_hub_app():
    assert [c.name for c in hub_app_configs()] == [*settings.HUB_APPS, *settings.HUB_PLUGINS]
    for config in hub_app_configs():
        assert config.__doc__ and config.schema.value.upper() in config.__doc__, config.name


def test_the_config_class_is_found_from_an_apps_module_or_its_path():
    assert config_class("apps.identity") is IdentityConfig
    assert config_class("plugins.hello.apps.HelloConfig") is HelloConfig
    with pytest.raises(ImproperlyConfigured, match="no such app"):
        config_class("apps.no_such_app")
    with pytest.raises(ImproperlyConfigured, match="not a hub app config"):
        config_class("django.contrib.admin.apps.AdminConfig")


def test_shared_and_tenant_apps_are_derived_from_each_apps_schema():
    assert split_by_schema(["apps.core", "apps.events", "apps.identity", "plugins.hello"]) == (
        ["apps.core", "apps.identity"],
        ["apps.events", "plugins.hello"],
    )
    # The lists django-tenants reads: the hub's shared apps first, then the third-party ones.
    assert settings.SHARED_APPS[:6] == [
        "apps.core", "apps.tenancy", "apps.identity", "apps.ops", "apps.flags.platform", "apps.billing",
    ]  # fmt: skip
    assert settings.SHARED_APPS[6:] == settings.THIRD_PARTY_SHARED_APPS
    assert settings.TENANT_APPS == [
        "django.contrib.contenttypes",
        "auditlog",
        "apps.events",
        "apps.notifications",
        "apps.api",
        "apps.analytics",
        "apps.content",
        "apps.flags",
        "apps.workflow",
        "apps.integrations",
        "apps.compliance",
        "apps.security",
        "apps.marketplace",
        "plugins.hello",  # enabled in the test settings, with the two below
        "plugins.chatnotify",
        "plugins.pulse",
    ]
    assert settings.INSTALLED_APPS == settings.SHARED_APPS + settings.TENANT_APPS[2:]
    assert apps.get_app_config("identity").schema == Schema.SHARED


@pytest.mark.parametrize(
    "name, args, urlconf, url",
    [
        ("home", [], "config.urls_tenant", "/"),
        ("members", [], "config.urls_tenant", "/members/"),
        ("security", [], "config.urls_tenant", "/security/"),
        ("notifications:list", [], "config.urls_tenant", "/notifications/"),
        ("notifications:webhooks", [], "config.urls_tenant", "/webhooks/"),
        ("api_keys", [], "config.urls_tenant", "/developers/keys/"),
        ("api_docs", [], "config.urls_tenant", "/developers/docs/"),
        ("hello:index", [], "config.urls_tenant", "/plugins/hello/"),
        ("account_login", [], "config.urls_tenant", "/accounts/login/"),
        ("landing", [], "config.urls_public", "/"),
        ("switch_tenant", ["acme"], "config.urls_public", "/switch/acme/"),
        ("security", [], "config.urls_public", "/security/"),
    ],
)
def test_each_app_keeps_its_addresses_under_its_prefix(name, args, urlconf, url):
    assert reverse(name, args=args, urlconf=urlconf) == url
    assert resolve(url, urlconf=urlconf).view_name == name


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/members/",
        "/api/v1/tenant/",
        "/api/v1/events/event-types/",
        "/api/v1/notifications/webhooks/",
        "/api/v1/plugins/hello/greetings/",
    ],
)
def test_each_apps_api_is_mounted_under_api_v1(url):
    assert resolve(url, urlconf="config.urls_tenant").url_name


def test_prefixes_default_to_the_label_and_may_be_changed():
    class ReportsConfig(HubAppConfig):
        name = "apps.reports"
        label = "reports"
        schema = Schema.TENANT

    reports = object.__new__(ReportsConfig)
    reports.label = "reports"
    assert (reports.page_mount(), reports.api_mount()) == ("reports/", "reports/")
    ReportsConfig.url_prefix, ReportsConfig.api_prefix = "", "stats"
    assert (reports.page_mount(), reports.api_mount()) == ("", "stats/")
    assert apps.get_app_config("hello").page_mount() == apps.get_app_config("hello").api_mount() == "plugins/hello/"
