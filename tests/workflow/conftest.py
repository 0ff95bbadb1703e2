"""Workflow fixtures: a published workflow made through the service, and `drain(run)`, which runs
a run's due steps in this process, one at a time, as the worker's run_step task would (the tests'
transaction never commits, so no task is sent)."""

from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.workflow import engine, services
from apps.workflow.models import StepRun, WorkflowRun


def graph_of(*nodes, edges=(), trigger=None):
    return {
        "trigger": trigger or {"type": "manual"},
        "nodes": [{"id": n[0], "type": n[1], "parameters": n[2] if len(n) > 2 else {}} for n in nodes],
        "edges": [{"from": e[0], "port": e[1], "to": e[2]} for e in edges],
    }


def make_workflow(tenant, graph, name="Test workflow", actor=None, **limits):
    with tenant_context(tenant):
        return services.workflow_create(tenant=tenant, name=name, graph=graph, actor=actor, publish_now=True, **limits)


def drain(run, *, max_steps=500, skip_waits=True) -> WorkflowRun:
    """Runs the run's due steps (and, with skip_waits, finishes waits at once) until none is left."""
    for _ in range(max_steps):
        engine.runs_admit()
        due = StepRun.objects.filter(run__in=_family(run), status=StepRun.Status.PENDING).order_by("pk").first()
        if due is None and skip_waits:
            wait = StepRun.objects.filter(run__in=_family(run), status="waiting", node_type="wait").first()
            if wait is not None:
                StepRun.objects.filter(pk=wait.pk).update(not_before=timezone.now())
                due = wait
        if due is None:
            break
        if due.not_before and due.not_before > timezone.now():
            StepRun.objects.filter(pk=due.pk).update(not_before=timezone.now())
        engine.step_run(step_id=due.pk)
    run.refresh_from_db()
    return run


def _family(run):
    """The run and its sub-workflow runs (any depth)."""
    ids, frontier = {run.pk}, {run.pk}
    while frontier:
        frontier = set(WorkflowRun.objects.filter(parent_step__run_id__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    return list(ids)


def steps_of(run) -> dict:
    return {(s.node_id, s.scope): s for s in StepRun.objects.filter(run=run)}
