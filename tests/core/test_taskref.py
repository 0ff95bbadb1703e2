"""Services send tasks by name (apps.core.taskref.TaskRef), so a name must match a task some app
defines: every TaskRef in the apps is checked here, and a wrong name fails loudly when sent."""

import importlib
import pkgutil

import pytest

import apps
from apps.core.taskref import TaskRef


def _task_refs() -> dict[str, TaskRef]:
    found = {}
    for module_info in pkgutil.walk_packages(apps.__path__, "apps."):
        if ".migrations" in module_info.name or ".scaffold" in module_info.name:
            continue
        module = importlib.import_module(module_info.name)
        for attribute, value in vars(module).items():
            if isinstance(value, TaskRef):
                found[f"{module_info.name}.{attribute}"] = value
    return found


def test_every_task_ref_names_a_registered_task():
    refs = _task_refs()
    assert "apps.events.services.DISPATCH_EVENTS" in refs and "apps.notifications.webhooks.DELIVER_WEBHOOKS" in refs
    for where, ref in refs.items():
        assert ref.task().name == ref.name, where


def test_a_task_ref_to_no_task_fails_naming_it():
    with pytest.raises(KeyError, match="no Celery task is registered as 'apps.events.tasks.no_such_task'"):
        TaskRef("apps.events.tasks.no_such_task").apply_async(args=[1])
