"""Celery tasks: thin, they call a service. A task runs in the schema of the tenant that sent it;
the *_all_tenants tasks run in the public schema (beat) and send one per active tenant."""

from celery import shared_task

from apps.tenancy.selectors import task_to_every_tenant

from . import engine, services

TENANT_CACHE_SECONDS = 30


@shared_task(acks_late=True, tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def run_step(step_id: int) -> str:
    """One step of a run (engine.step_run: claims it, runs its node, records what came out), and
    the quick built-in steps after it (engine.steps_run)."""
    return engine.steps_run(step_id=step_id)


@shared_task(tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def fire_schedules() -> int:
    return services.schedules_fire()


@shared_task(ignore_result=True)
def fire_schedules_all_tenants() -> int:
    """Beat, every minute: each tenant's scheduled workflows, in its own time zone."""
    return task_to_every_tenant(fire_schedules)


@shared_task(tenant_cache_seconds=TENANT_CACHE_SECONDS, ignore_result=True)
def recover_runs() -> int:
    return engine.runs_recover()


@shared_task(ignore_result=True)
def recover_runs_all_tenants() -> int:
    """Beat, every HUB_WORKFLOW_RECOVERY_SECONDS: steps of dead workers, lost tasks, waits due."""
    return task_to_every_tenant(recover_runs)
