"""Celery tasks named, not imported: how a service sends background work.

A task fetches what it needs and calls a service; a service never imports a task module (that
would be an import cycle: tasks → services → tasks). A service that needs background work names
the task by its registered name and sends it:

    DISPATCH_EVENTS = TaskRef("apps.events.tasks.dispatch_events")
    ...
    transaction.on_commit(lambda: DISPATCH_EVENTS.apply_async(headers={"_schema_name": schema}))

Sending goes through the task itself (so eager mode and the tenant's schema stamp apply as for a
direct call); the tasks modules are loaded on first use, as the worker loads them.
"""

from dataclasses import dataclass

from celery import current_app


@dataclass(frozen=True)
class TaskRef:
    name: str  # the task's registered name, e.g. "apps.events.tasks.dispatch_events"

    def task(self):
        """The registered task. KeyError naming it when no app defines a task of that name."""
        if self.name not in current_app.tasks:
            current_app.loader.import_default_modules()  # every app's tasks module (Celery's autodiscovery)
        try:
            return current_app.tasks[self.name]
        except KeyError:
            raise KeyError(f"no Celery task is registered as {self.name!r}") from None

    def apply_async(self, args=(), kwargs=None, **options):
        return self.task().apply_async(args=list(args), kwargs=kwargs or {}, **options)
