import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_exists

from apps.tenancy.models import Tenant
from tests.conftest import subprocess_env


@pytest.mark.django_db
def test_create_list_suspend_resume_delete(capsys, tenant_a):
    call_command("create_tenant", "Cmd Co", "cmd-co", "cmd@example.com", "--plan", "team")
    out = capsys.readouterr().out
    assert "http://cmd-co.localhost:8000/" in out
    assert "password:" in out
    tenant = Tenant.objects.get(slug="cmd-co")
    assert tenant.plan == "team"

    call_command("list_tenants")
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["SLUG", "NAME", "STATUS", "PLAN", "MEMBERS", "CREATED"]
    cmd_row = next(line for line in table if line.startswith("cmd-co"))
    assert "Cmd Co" in cmd_row and "active" in cmd_row and " 1 " in cmd_row

    call_command("suspend_tenant", "cmd-co")
    assert Tenant.objects.get(slug="cmd-co").status == "suspended"
    call_command("resume_tenant", "cmd-co")
    assert Tenant.objects.get(slug="cmd-co").status == "active"

    call_command("delete_tenant", "cmd-co", "--yes")
    assert not Tenant.objects.filter(slug="cmd-co").exists()
    assert not schema_exists("t_cmd_co")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["create_tenant", "X", "www", "x@example.com"], "reserved"),
        (["create_tenant", "X", "alpha", "x@example.com"], "already taken"),
        (["create_tenant", "X", "fine-slug", "not-an-email"], "valid email"),
        (["suspend_tenant", "no-such"], "No tenant"),
        (["delete_tenant", "no-such", "--yes"], "No tenant"),
    ],
)
def test_bad_arguments_raise_one_line_error(args, message, tenant_a):
    with pytest.raises(CommandError) as exc:
        call_command(*args)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


@pytest.mark.django_db
def test_delete_without_confirmation_deletes_nothing(tenant_a, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "wrong")
    with pytest.raises(CommandError, match="Not confirmed"):
        call_command("delete_tenant", "alpha")
    assert schema_exists("t_alpha")


@pytest.mark.django_db
def test_command_line_errors_exit_1_with_one_line():
    """Through manage.py itself: missing arguments and validation errors both exit 1 with one line."""
    for args in (["create_tenant"], ["suspend_tenant", "no-such-tenant"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            capture_output=True,
            text=True,
            env=subprocess_env(),
        )
        assert result.returncode == 1, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
