"""The plugin base: the hub versions a plugin supports and the settings it needs are checked at
start-up, with one error naming the plugin; pip-installed plugins are found by entry point."""

import subprocess
import sys
import textwrap

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from apps.core import version
from apps.core.plugins import ENTRY_POINT_GROUP, discover
from tests.conftest import subprocess_env

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture
def hello():
    return apps.get_app_config("hello")  # min_hub_version "0.7", max_hub_version "0" (any 0.x)


@pytest.mark.parametrize("hub", ["0.7.0", "0.7.1", "0.9", "0.99.3-dev"])
def test_supported_hub_versions_pass(hello, hub):
    hello.check_compatibility(hub)


@pytest.mark.parametrize(
    "hub, message",
    [
        ("0.6.9", "supports hub versions 0.7 to 0; this hub is 0.6.9"),
        ("1.0.0", "supports hub versions 0.7 to 0; this hub is 1.0.0"),
    ],
)
def test_unsupported_hub_versions_are_refused_naming_the_plugin(hello, hub, message):
    with pytest.raises(ImproperlyConfigured, match=f"^Plugin Hello \\(plugins.hello\\) {message}"):
        hello.check_compatibility(hub)


def test_the_running_hub_has_a_semantic_version():
    assert version.parse(version.__version__) >= (0, 7, 0)
    assert version.parse("2") == (2, 0, 0) and version.parse("1.2.3-rc1") == (1, 2, 3)
    with pytest.raises(ValueError):
        version.parse("one.two")


def test_missing_required_settings_are_named(hello, settings):
    hello.check_settings()
    settings.HELLO_GREETING = ""
    with pytest.raises(ImproperlyConfigured, match="Plugin Hello .* needs these settings, which are not set: HELLO_"):
        hello.check_settings()
    del settings.HELLO_GREETING
    with pytest.raises(ImproperlyConfigured, match="HELLO_GREETING"):
        hello.check_settings()


def _fake_distribution(root, package, apps_py):
    """A pip-installed plugin: its package and a dist-info with the hub's entry point."""
    (root / package).mkdir()
    (root / package / "__init__.py").write_text("")
    (root / package / "apps.py").write_text(textwrap.dedent(apps_py))
    dist = root / f"{package}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{package} = {package}\n")


def test_pip_installed_plugins_are_found_by_entry_point(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "found_plugin", "")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert discover(["plugins.hello"]) == ["plugins.hello", "found_plugin"]
    assert discover(["found_plugin"]) == ["found_plugin"]


def _manage_check(env):
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_an_incompatible_pip_installed_plugin_stops_the_start_with_a_clear_error(tmp_path):
    _fake_distribution(
        tmp_path,
        "future_plugin",
        """
        from apps.core.plugins import PluginConfig


        class FutureConfig(PluginConfig):
            name = "future_plugin"
            verbose_name = "Future"
            version = "3.0.0"
            min_hub_version = "99.0"
        """,
    )
    result = _manage_check(subprocess_env(PYTHONPATH=str(tmp_path)))
    assert result.returncode != 0
    assert (
        f"ImproperlyConfigured: Plugin Future (future_plugin) supports hub versions 99.0 or later; "
        f"this hub is {version.__version__}." in result.stderr
    )


def test_a_plugin_missing_its_settings_stops_the_start_with_a_clear_error():
    env = subprocess_env(DJANGO_SETTINGS_MODULE="config.settings.dev", HUB_PLUGINS="plugins.hello")
    result = _manage_check(env)
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: Plugin Hello (plugins.hello) needs these settings, which are not set: HELLO_GREETING."
        in result.stderr
    )
    assert _manage_check(subprocess_env()).returncode == 0  # the test settings set it
