from celery import shared_task

from . import health


@shared_task(name="apps.ops.tasks.beat_heartbeat")
def beat_heartbeat():
    """Sent by beat on a schedule: the readiness check `beat` reads when it last arrived."""
    health.beat_heartbeat_record()
