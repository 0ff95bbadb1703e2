from celery import shared_task
from django.db import connection


@shared_task
def current_schema() -> str:
    """Reports the schema a task runs in: it is the schema of the tenant that enqueued it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]
