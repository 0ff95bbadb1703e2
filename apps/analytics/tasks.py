"""Celery tasks: thin, they call a service. A task runs in the schema of the tenant that sent it."""

from celery import shared_task

from apps.tenancy.selectors import task_to_every_tenant

from . import services

# The worker looks the tenant of a task up by its schema; keep it for a while.
TENANT_CACHE_SECONDS = 30


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def write_events() -> int:
    """Writes the tenant's queued events (capture sends it, at most one queued at a time)."""
    return services.events_write_queued()


@shared_task(tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def maintain_partitions() -> list[str]:
    return services.partitions_maintain()


@shared_task(ignore_result=True)
def maintain_partitions_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one partition upkeep per active tenant."""
    return task_to_every_tenant(maintain_partitions)


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def run_report_job(job_id: int) -> str:
    """Makes a report's or export's file (reports.report_job_create sends it after commit)."""
    from django.db import connection

    from . import reports

    job = reports.report_job_run(job_id=job_id, tenant=connection.tenant)
    return job.status if job else "skipped"


@shared_task(tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def send_scheduled_reports() -> int:
    """Sends the tenant's scheduled reports that are due, and deletes its old report files."""
    from django.db import connection

    from . import reports

    reports.report_jobs_prune()  # old files go too, in the same round
    return reports.scheduled_reports_run_due(tenant=connection.tenant)


@shared_task(ignore_result=True)
def send_scheduled_reports_all_tenants() -> int:
    """Beat runs this in the public schema: each active tenant sends the reports it has due."""
    return task_to_every_tenant(send_scheduled_reports)
