"""The Celery app. tenant-schemas-celery stamps each task with the sender's schema and the
worker switches to it before the task runs, so a task always sees its own tenant's data.

Beat's schedule is the registry's periodic tasks (PeriodicTask items the apps register), read
once Django is set up, plus any CELERY_BEAT_SCHEDULE entries of the settings."""

import os

from celery.signals import setup_logging, worker_process_init
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = CeleryApp("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_from_registry(sender, **kwargs):
    # Beat and workers finalize the app after their loader has set Django up; anything else
    # finalizing it first (a script) sets Django up here.
    import django
    from django.apps import apps as django_apps

    if not django_apps.ready:
        django.setup()
    from apps.core.registry import registry

    sender.conf.beat_schedule = {**registry.beat_schedule(), **(sender.conf.beat_schedule or {})}


@worker_process_init.connect
def _no_pool_in_prefork_children(**kwargs):
    """A prefork child runs one task at a time, and Celery closes its connection, and its pool,
    around every task: a pool would open and close threads (and min_size connections) per task.
    So each child uses one plain connection, at most, like `DATABASE_POOL_MAX_SIZE=0`."""
    from django.db import connections

    for conn in connections.all():
        conn.settings_dict["OPTIONS"].pop("pool", None)


@setup_logging.connect
def _logging_as_django_says(**kwargs):
    """Workers and beat log as the web server does: Django's LOGGING (JSON lines in production,
    apps.ops.logs), not Celery's own format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
