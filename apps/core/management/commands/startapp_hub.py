"""manage.py startapp_hub NAME [--schema tenant|shared]: a new app in the hub's shape."""

from importlib.util import find_spec
from pathlib import Path

from django.apps import apps
from django.conf import settings

from apps.core.management import HubCommand
from apps.core.scaffold import name_problem, render_tree


class Command(HubCommand):
    help = (
        "Creates apps/NAME/ (config with its schema side, models and first migration, services, selectors, "
        "events, api/, views, urls, templates, tasks, registry entries) and tests/NAME/ with its first tests."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the app's name and label: lowercase letters, digits, underscores")
        parser.add_argument(
            "--schema",
            choices=["tenant", "shared"],
            default="tenant",
            help="where its tables live: each tenant's schema (default) or the public one",
        )
        parser.add_argument("--root", default=str(settings.BASE_DIR), help="the project root (default: this one)")

    def handle(self, *args, name, schema, root, **options):
        root = Path(root)
        apps_dir, tests_dir = root / "apps", root / "tests"
        taken = {config.label for config in apps.get_app_configs()} | {"api", "apps", "tests", "plugins", "config"}
        problem = name_problem(name, taken)
        if not problem and ((apps_dir / name).exists() or (tests_dir / name).exists()):
            problem = f"apps/{name} or tests/{name} exists already: choose another name."
        if not problem and find_spec(name) is not None:
            problem = f"“{name}” is the name of an installed Python module: choose another name."
        if problem:
            raise self.fail(ValueError(problem))
        written = render_tree(name, shared=schema == "shared", apps_dir=apps_dir, tests_dir=tests_dir)
        self.stdout.write(f"Created apps/{name}/ and tests/{name}/ ({len(written)} files).")
        self.stdout.write(
            f'Next: add "apps.{name}" to HUB_APPS in config/settings/base.py, then `make migrate` '
            f"and `make test PYTEST_ARGS=tests/{name}`. Its page is /{name}/, its API /api/v1/{name}/items/."
        )
