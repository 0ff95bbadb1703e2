"""The Celery app. tenant-schemas-celery stamps each task with the sender's schema and the
worker switches to it before the task runs, so a task always sees its own tenant's data."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = CeleryApp("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
