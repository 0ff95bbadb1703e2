"""migrate_schemas with options: --shared stops after the public schema; naming a schema hands
over to django-tenants' own command for that schema only."""

import subprocess
import sys

import pytest

from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db


def migrate(*args):
    return subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--noinput", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )


def test_shared_migrates_the_public_schema_only(tenant_a):
    result = migrate("--shared")
    assert result.returncode == 0, result.stderr
    assert "[standard:public] Running migrations:" in result.stdout
    assert "tenant schemas" not in result.stdout  # no tenant was looked at
    assert "t_alpha" not in result.stdout


def test_a_named_schema_is_migrated_alone(tenant_a, tenant_b):
    result = migrate("--schema", "t_alpha")
    assert result.returncode == 0, result.stderr
    assert "standard:t_alpha] Running migrations:" in result.stdout
    assert "t_beta" not in result.stdout and "tenant schemas" not in result.stdout


def test_tenant_migrates_the_tenant_schemas_only(tenant_a):
    result = migrate("--tenant")
    assert result.returncode == 0, result.stderr
    assert "tenant schemas are up to date" in result.stdout
    assert "[standard:public]" not in result.stdout
