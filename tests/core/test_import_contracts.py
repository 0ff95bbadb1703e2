"""The import contracts of pyproject.toml (`make lint` runs them): the project keeps them, and they
catch an upward import, a cycle (imports inside functions count), a feature app reaching into
another's models, and an app or plugin importing the project, in a small tree of modules."""

import subprocess
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = ROOT / ".venv" / "bin" / "lint-imports"


def _lint(cwd: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", *options],
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_project_keeps_its_import_contracts():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def _contracts_without_exceptions(path: Path) -> None:
    """The project's contracts as an INI file, minus the imports it lets through."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]

    def section(name: str, options: dict) -> str:
        lines = [f"[{name}]"]
        for key, value in options.items():
            if key == "contracts" or key == "ignore_imports":
                continue
            value = "".join(f"\n    {item}" for item in value) if isinstance(value, list) else value
            lines.append(f"{key} = {value}")
        return "\n".join(lines)

    sections = [section("importlinter", config)]
    sections += [section(f"importlinter:contract:{i}", c) for i, c in enumerate(config["contracts"])]
    path.write_text("\n\n".join(sections) + "\n")


def _tree(root: Path, modules: dict[str, str]) -> None:
    for name, source in modules.items():
        path = root.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for package in [path.parent, *path.parent.parents]:
            if package == root:
                break
            (package / "__init__.py").touch()
        path.write_text(textwrap.dedent(source))


CLEAN = {
    "config.settings": "from apps.core import appconfig\n",
    "apps.core.appconfig": "",
    "apps.tenancy.models": "from apps.core import appconfig\n",
    "apps.identity.models": "from apps.tenancy import models\n",
    "apps.api.views": "from apps.identity import models\n",
    "apps.events.services": "from apps.identity import models\n",
    "apps.events.tasks": "from apps.events import services\n",
    "apps.notifications.services": "from apps.events import services\nfrom apps.api import views\n",
    # Two feature apps, which the contracts name nowhere: they sit above the platform's apps.
    "apps.reports.models": "from apps.notifications import services\n",
    "apps.reports.services": "from apps.billing import selectors\n",
    "apps.billing.models": "",
    "apps.billing.selectors": "from apps.billing import models\n",
    "plugins.hello.views": "from apps.reports import services\n",
}

BROKEN = {
    # an upward import, inside a function
    "apps.core.appconfig": "def ready():\n    from apps.identity import models\n",
    # a cycle through a function-local import (services -> tasks -> services)
    "apps.events.services": "def publish():\n    from apps.events import tasks\n",
    # a feature app reaching into another's models
    "apps.reports.services": "from apps.billing.models import Invoice\n",
    # a platform app importing a feature app, and a plugin
    "apps.notifications.services": "from apps.reports import services\nfrom plugins.hello import views\n",
    # an app importing the project
    "apps.tenancy.models": "from config import settings\n",
}


def test_the_contracts_catch_upward_imports_cycles_model_imports_and_the_project(tmp_path):
    _contracts_without_exceptions(tmp_path / ".importlinter")
    _tree(tmp_path, CLEAN)
    clean = _lint(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    _tree(tmp_path, BROKEN)
    broken = _lint(tmp_path)
    report = " ".join(broken.stdout.split())
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Contracts: 0 kept, 3 broken." in report
    assert "apps.core is not allowed to import apps.identity" in report
    assert "No cycles are allowed in apps.events" in report
    assert (
        "apps.reports.services imports apps.billing.models: a feature app uses another's services or selectors, "
        "never its models." in report
    )
    assert "apps.notifications is not allowed to import apps.reports" in report
    assert "apps.notifications is not allowed to import plugins" in report
    assert "apps.tenancy.models -> config" in report
