"""The scaffold of a new hub app (`manage.py startapp_hub`): app/ becomes apps/<name>/, tests/
becomes tests/<name>/. Python files are `.py-tpl` (rendered by Django's template engine, so ruff
and pytest leave them alone); HTML templates are `.html-tpl` with $name and $title; `app_name`
in a path becomes the app's name."""

import keyword
import re
import string
from pathlib import Path

from django.template import Context, Engine

ROOT = Path(__file__).resolve().parent
NAME = re.compile(r"[a-z][a-z0-9_]{1,29}")


def name_problem(name: str, taken: set[str]) -> str:
    """Why `name` cannot be a new app's name ("" if it can)."""
    if not NAME.fullmatch(name) or name.endswith("_") or "__" in name:
        return (
            f"“{name}” is not a valid app name: use 2 to 30 lowercase letters, digits and single underscores, "
            "starting with a letter."
        )
    if keyword.iskeyword(name) or name in taken:
        return f"“{name}” is taken: choose another name."
    return ""


def context_for(name: str, *, shared: bool) -> dict:
    title = name.replace("_", " ").capitalize()
    return {
        "name": name,
        "camel": "".join(part.capitalize() for part in name.split("_")),
        "title": title,
        "lower_title": title.lower(),
        "schema": "SHARED" if shared else "TENANT",
        "shared": shared,
        "first_party_imports": _test_imports(name),
    }


def _test_imports(name: str) -> str:
    """The generated test's first-party imports, sorted as ruff's isort sorts them."""
    imports = {
        f"apps.{name}": "selectors, services",
        f"apps.{name}.tasks": "item_create_task",
        "apps.core.registry": "registry",
        "apps.events.models": "Event",
        "tests.api.conftest": "api_client, make_key",
        "tests.conftest": "client_for",
        "tests.factories": "MembershipFactory",
    }
    return "\n".join(f"from {module} import {names}" for module, names in sorted(imports.items()))


def render_tree(name: str, *, shared: bool, apps_dir: Path, tests_dir: Path) -> list[Path]:
    """Writes the app into apps_dir/<name>/ and its tests into tests_dir/<name>/; returns the files."""
    context = context_for(name, shared=shared)
    engine = Engine(autoescape=False)
    written = []
    for source_root, target_root in ((ROOT / "app", apps_dir / name), (ROOT / "tests", tests_dir / name)):
        for source in sorted(source_root.rglob("*-tpl")):
            relative = source.relative_to(source_root).with_name(source.name.removesuffix("-tpl"))
            relative = Path(*(name if part == "app_name" else part for part in relative.parts))
            relative = relative.with_name(relative.name.replace("app_name", name))
            text = source.read_text()
            if source.name.endswith(".py-tpl"):
                text = engine.from_string(text).render(Context(context))
            else:
                text = string.Template(text).safe_substitute(name=name, title=context["title"])
            target = target_root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            written.append(target)
    return written
