"""Plugins per tenant (apps.marketplace).

plugin_enable_ms: enabling Team pulse (plugins/pulse: two tables, Checkin and Kudos) for a
tenant: plugin_enable() in the tenant's schema, its migrations run for that schema only, its
row, its event; the median of ROUNDS enables, each after an uninstall that dropped its tables
(so each one creates them). Target: < 500 ms.

plugin_overhead_ratio: requests per second of the owner's home page (the dashboard: side
navigation, home widgets, bell) with 10 enabled plugins, each adding a navigation item and a home
widget (a static card), divided by the same page with no plugin items registered. Both in one
process through Django's test client (the whole middleware stack, the plugin gate included), the
two set-ups alternated ROUNDS times, REQUESTS requests each, medians compared. Target ≥ 0.9.

Both run in a child process whose HUB_PLUGINS installs the repository's plugins, so the other
benchmarks keep the platform as deployed without them.
"""

import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from bench.common import log, median, report

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_PLUGINS_ROUNDS", "5"))
REQUESTS = int(os.environ.get("BENCH_PLUGINS_REQUESTS", "200"))
PLUGINS = "plugins.pulse,plugins.chatnotify"
# Pages without a navigation item of their own, for the ten plugins' items to link to (a nav item's
# key is its URL name).
PAGES = [
    "home_layout",
    "member_invite",
    "organisation_create",
    "profile",
    "security_settings",
    "flags:new",
    "content:folder_create_top",
    "content:upload_top",
    "organisation_logo",
    "member_avatar",
    "organisation_delete",
    "handover",
    "sso_login",
]


def _child(which: str) -> None:
    env = {**os.environ, "HUB_PLUGINS": PLUGINS, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    done = subprocess.run([sys.executable, "-m", "bench.plugins", which], cwd=ROOT, env=env, check=False)
    if done.returncode:
        sys.exit(f"bench: {which} failed (exit {done.returncode})")


def plugin_enable_ms():
    _child("enable")


def plugin_overhead_ratio():
    _child("overhead")


def _enable_times(tenant) -> list[float]:
    from django.db import transaction
    from django_tenants.utils import schema_context

    from apps.marketplace import services

    times = []
    with schema_context(tenant.schema_name):
        for _ in range(ROUNDS):
            start = time.perf_counter()
            with transaction.atomic():
                install = services.plugin_enable(tenant=tenant, actor=None, label="pulse")
            times.append((time.perf_counter() - start) * 1000)
            assert install.state == "enabled", install.reason
            services.plugin_uninstall(tenant=tenant, actor=None, label="pulse", mode="remove", confirm="Team pulse")
    return times


def _rps(client, host: str) -> float:
    start = time.perf_counter()
    for _ in range(REQUESTS):
        response = client.get("/", HTTP_HOST=host)
        assert response.status_code == 200, response.status_code
    return REQUESTS / (time.perf_counter() - start)


def _overhead(tenant) -> tuple[float, float]:
    from django.test import Client
    from django_tenants.utils import schema_context

    from apps.core.registry import NavItem, Plugin, Widget, registering_for, registry
    from apps.identity.models import Membership, User
    from apps.marketplace.models import PluginInstall

    email = "owner@bench-plugins.example.com"
    owner = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password=None)
    Membership.objects.create(user=owner, tenant=tenant, role="owner")
    host = tenant.domains.first().domain
    client = Client()
    client.force_login(owner)
    labels = [f"bench{i}" for i in range(10)]
    pages = [name for name in PAGES if name not in registry["nav_items"] and _reverses(name)][:10]
    assert len(pages) == 10, pages
    with schema_context(tenant.schema_name):
        PluginInstall.objects.bulk_create(PluginInstall(label=label, state="enabled", tables=True) for label in labels)
    # The installed plugins' own items out of the way: "none" is a dashboard with no plugin items.
    real = [item for store in ("nav_items", "widgets") for item in registry.active(store) if _plugin_item(store, item)]
    registry.unregister(*real)
    with_plugins, without = [], []
    for _ in range(ROUNDS):
        without.append(_rps(client, host))
        with ExitStack() as stack:
            for i, label in enumerate(labels):
                with registering_for(label):
                    stack.enter_context(
                        registry.registered(
                            Plugin(label=label, name=f"Bench {i}", version="1.0.0"),
                            NavItem(f"Bench {i}", pages[i], weight=200 + i),
                            Widget(f"{label}.card", f"Bench card {i}", "core/_empty_state.html", weight=200 + i),
                        )
                    )
            page = client.get("/", HTTP_HOST=host).content.decode()
            assert page.count('data-widget="bench') == 10, "the ten plugins' widgets are not shown"
            with_plugins.append(_rps(client, host))
    return median(with_plugins), median(without)


def _reverses(name: str) -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def _plugin_item(store, item) -> bool:
    from apps.core.registry import registry

    return bool(registry.plugin_of(store, registry[store].key_of(item)))


def main(which: str) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.common import fresh_tenant, prepare_database

    prepare_database()
    with fresh_tenant("bench-plugins", "Bench Plugins", plan="team") as tenant:
        if which == "enable":
            times = _enable_times(tenant)
            log(f"plugin_enable_ms: {', '.join(f'{t:.0f}' for t in times)}")
            report("plugin_enable_ms", median(times), "ms")
        else:
            on, off = _overhead(tenant)
            log(f"home page: {on:.1f} req/s with 10 plugins, {off:.1f} without")
            report("plugin_overhead_rps_with_10", on, "req/s")
            report("plugin_overhead_rps_without", off, "req/s")
            report("plugin_overhead_ratio", on / off, "", digits=3)


if __name__ == "__main__":
    main(sys.argv[1])
