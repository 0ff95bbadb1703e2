"""Platform flags: the hub's own features gated per tenant or plan by the same engine (the
tenant's slug as distinct id, its plan as a property), through a template tag, a view decorator,
the operators' admin page and a command."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import Http404, HttpResponse
from django.template import Context, Template
from django.test import RequestFactory

from apps.flags.platform import services
from apps.flags.platform.decorators import flag_required
from apps.flags.platform.models import PlatformFlag
from apps.tenancy.models import Tenant
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh():
    services.forget()
    yield
    services.forget()


def make(key="new-editor", plans=("enterprise",), rollout=100, overrides=None, active=True):
    properties = [{"key": "plan", "operator": "exact", "value": list(plans)}] if plans else []
    flag = PlatformFlag(
        key=key,
        active=active,
        overrides=overrides or {},
        filters={"groups": [{"properties": properties, "rollout_percentage": rollout}]},
    )
    return services.platform_flag_save(flag=flag)


def with_plan(tenant, plan):
    Tenant.objects.filter(pk=tenant.pk).update(plan=plan)
    tenant.refresh_from_db()
    return tenant


def test_a_flag_by_plan_with_a_named_tenant_and_the_kill_switch(tenant_a, tenant_b):
    flag = make(overrides={tenant_b.slug: True})
    with_plan(tenant_a, "enterprise")
    with_plan(tenant_b, "free")
    assert services.platform_flag_enabled("new-editor", tenant_a) is True
    assert services.platform_flag_enabled("new-editor", tenant_b) is True  # named
    with_plan(tenant_a, "free")
    assert services.platform_flag_enabled("new-editor", tenant_a) is False
    flag.active = False
    services.platform_flag_save(flag=flag)
    assert services.platform_flag_enabled("new-editor", tenant_b) is False
    assert services.platform_flag_enabled("unknown", tenant_b) is False


def test_the_template_tag_and_the_view_decorator(tenant_a, tenant_b):
    make(plans=(), overrides={tenant_b.slug: False})
    template = Template(
        '{% load platform_flags %}{% flag "new-editor" %}new {{ flag_value }}{% else %}old{% endflag %}'
    )
    request = RequestFactory().get("/")

    def rendered(tenant):
        request.tenant = tenant
        return template.render(Context({"request": request}))

    assert rendered(tenant_a) == "new True" and rendered(tenant_b) == "old"

    @flag_required("new-editor")
    def view(request):
        return HttpResponse("editor")

    request.tenant = tenant_a
    assert view(request).content == b"editor"
    request.tenant = tenant_b
    with pytest.raises(Http404):
        view(request)


def test_operators_manage_flags_in_the_admin_and_bad_rules_are_refused(tenant_a):
    operator = client_for(None, UserFactory(is_staff=True, is_superuser=True))
    good = {
        "key": "beta-search",
        "description": "",
        "active": "on",
        "filters": '{"groups": [{"properties": [], "rollout_percentage": 50}]}',
        "overrides": "{}",
    }
    assert operator.post("/admin/platform_flags/platformflag/add/", good).status_code == 302
    assert PlatformFlag.objects.get(key="beta-search").filters["groups"][0]["rollout_percentage"] == 50
    bad = {**good, "key": "bad", "filters": '{"multivariate": {"variants": [{"key": "a", "rollout_percentage": 10}]}}'}
    page = operator.post("/admin/platform_flags/platformflag/add/", bad)
    assert page.status_code == 200 and "add up to 10, not 100" in page.content.decode()
    assert "beta-search" in operator.get("/admin/platform_flags/platformflag/").content.decode()
    member = client_for(None, UserFactory())
    assert member.get("/admin/platform_flags/platformflag/").status_code == 302  # to the log-in


def test_the_command_sets_checks_and_switches(tenant_a, capsys):
    with_plan(tenant_a, "free")
    call_command("platform_flag", "set", "new-editor", "--plans", "pro,enterprise", "--tenants", tenant_a.slug)
    call_command("platform_flag", "check", "new-editor", "--tenant", tenant_a.slug)
    assert f"new-editor for {tenant_a.slug} (free): True" in capsys.readouterr().out
    call_command("platform_flag", "switch", "new-editor", "off")
    services.forget()
    assert services.platform_flag_enabled("new-editor", tenant_a) is False
    call_command("platform_flag", "list")
    assert "new-editor\toff" in capsys.readouterr().out
    with pytest.raises(CommandError, match="rollout_percentage"):
        call_command("platform_flag", "set", "x", "--rollout", "150")
    with pytest.raises(CommandError, match="no tenant"):
        call_command("platform_flag", "check", "new-editor", "--tenant", "nobody")


def test_every_change_is_a_kept_version_and_a_flag_rolls_back(tenant_a, capsys):
    call_command("platform_flag", "set", "new-editor", "--plans", "enterprise", "--rollout", "20")
    call_command("platform_flag", "set", "new-editor", "--plans", "pro,enterprise", "--rollout", "60")
    call_command("platform_flag", "switch", "new-editor", "off")
    flag = PlatformFlag.objects.get(key="new-editor")
    versions = list(flag.versions.order_by("version").values_list("version", "note"))
    assert versions == [(1, "created"), (2, "edited"), (3, "switched off")]
    assert flag.versions.get(version=1).definition["filters"]["groups"][0]["rollout_percentage"] == 20
    capsys.readouterr()
    call_command("platform_flag", "history", "new-editor")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["v3", "v2", "v1"] and "\toff\t" in lines[0]
    call_command("platform_flag", "rollback", "new-editor", "1")
    flag.refresh_from_db()
    assert flag.version == 4 and flag.active is True
    assert flag.filters["groups"][0]["rollout_percentage"] == 20
    assert flag.versions.get(version=4).note == "rolled back to version 1"
    with pytest.raises(CommandError, match="has no version 9"):
        call_command("platform_flag", "rollback", "new-editor", "9")


def test_admin_saves_and_the_kill_switch_action_are_versions_with_the_operator(tenant_a):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(None, operator)
    body = {
        "key": "beta-search",
        "description": "",
        "active": "on",
        "filters": '{"groups": [{"properties": [], "rollout_percentage": 50}]}',
        "overrides": "{}",
    }
    assert client.post("/admin/platform_flags/platformflag/add/", body).status_code == 302
    flag = PlatformFlag.objects.get(key="beta-search")
    action = {"action": "switch_off", "_selected_action": [flag.pk]}
    assert client.post("/admin/platform_flags/platformflag/", action).status_code == 302
    notes = list(flag.versions.order_by("version").values_list("note", flat=True))
    assert notes == [f"created by {operator.email}", f"switched off by {operator.email}"]
    page = client.get(f"/admin/platform_flags/platformflag/{flag.pk}/change/").content.decode()
    assert f"switched off by {operator.email}" in page
