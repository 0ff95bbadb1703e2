"""`manage.py startapp_hub`: a new app in the house shape that passes `make lint` and its own tests as
generated, and that needs one line outside itself (in HUB_APPS) to be served: its page, API,
navigation item and registry entries arrive through the registry and the automatic mounts."""

import io
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parents[2]


def _changed_paths() -> set[str]:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {line[3:] for line in out.splitlines()}


@pytest.mark.e2e
@pytest.mark.django_db
def test_a_generated_app_passes_lint_and_its_tests_with_one_line_of_settings(tmp_path):
    names = {"tenant": f"gen_{uuid.uuid4().hex[:8]}", "shared": f"gen_{uuid.uuid4().hex[:8]}"}
    before = _changed_paths()
    try:
        for schema, name in names.items():
            call_command("startapp_hub", name, "--schema", schema, stdout=io.StringIO())
        # Everything the command wrote is inside the new apps and their tests.
        added = _changed_paths() - before
        assert added and all(path.split("/")[1] in names.values() for path in added), sorted(added)
        assert {path.split("/")[0] for path in added} == {"apps", "tests"}

        targets = [str(ROOT / top / name) for name in names.values() for top in ("apps", "tests")]
        lint = subprocess.run([ROOT / ".venv/bin/ruff", "check", *targets], cwd=ROOT, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout
        # The import contracts place them as feature apps, with no change to the contracts.
        contracts = subprocess.run(
            [ROOT / ".venv/bin/lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert contracts.returncode == 0, contracts.stdout

        # The one change outside the apps: their names in HUB_APPS (here in a settings module of the test's own).
        (tmp_path / "with_generated_apps.py").write_text(
            "from config.settings.test import *  # noqa: F403\n"
            f"HUB_APPS = [*HUB_APPS, {', '.join(repr(f'apps.{n}') for n in names.values())}]  # noqa: F405\n"
            "SHARED_APPS, TENANT_APPS, INSTALLED_APPS = app_lists(HUB_APPS, HUB_PLUGINS)  # noqa: F405\n"
        )
        env = subprocess_env(
            DJANGO_SETTINGS_MODULE="with_generated_apps",
            PYTHONPATH=f"{tmp_path}:{ROOT}",
            # A test database and Redis databases of its own, beside this run's.
            DATABASE_NAME=connection.settings_dict["NAME"].removeprefix("test_") + "_scaffold",
            TEST_REDIS_DBS="4,5,6",
        )
        migrations = subprocess.run(
            [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrations.returncode == 0, migrations.stdout + migrations.stderr
        # Their own tests, and the API isolation test's cases for their endpoints.
        tests = [f"tests/{name}" for name in names.values()] + ["tests/api/test_isolation.py"]
        run = subprocess.run(
            [sys.executable, "-m", "pytest", *tests, "-k", " or ".join(names.values()), "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
        assert "26 passed" in run.stdout, run.stdout[-3000:]
    finally:
        for name in names.values():
            shutil.rmtree(ROOT / "apps" / name, ignore_errors=True)
            shutil.rmtree(ROOT / "tests" / name, ignore_errors=True)


@pytest.mark.parametrize(
    "name, message",
    [
        ("Reports", "is not a valid app name"),
        ("2fast", "is not a valid app name"),
        ("a", "is not a valid app name"),
        ("bad__name", "is not a valid app name"),
        ("events", "“events” is taken"),
        ("class", "“class” is taken"),
        ("json", "installed Python module"),
    ],
)
def test_a_bad_name_is_refused_in_one_line(tmp_path, name, message):
    with pytest.raises(CommandError, match=message):
        call_command("startapp_hub", name, "--root", str(tmp_path))
    assert not any(tmp_path.iterdir())


def test_an_existing_app_is_never_overwritten(tmp_path):
    (tmp_path / "apps" / "reports").mkdir(parents=True)
    with pytest.raises(CommandError, match="apps/reports or tests/reports exists already"):
        call_command("startapp_hub", "reports", "--root", str(tmp_path))
    assert not (tmp_path / "tests").exists()
