"""Reads: workflows, their versions, runs, steps and approvals (all in the tenant's schema)."""

from django.db.models import Q, QuerySet

from apps.identity.roles import RANK

from .graph import graph_problems, missing_types
from .models import Approval, StepRun, Workflow, WorkflowRun, WorkflowVersion


def workflow_list() -> QuerySet[Workflow]:
    return Workflow.objects.select_related("published")


def workflow_versions(*, workflow: Workflow) -> QuerySet[WorkflowVersion]:
    return workflow.versions.filter(test=False).select_related("created_by").order_by("-number")


def run_list(*, workflow: Workflow | None = None) -> QuerySet[WorkflowRun]:
    runs = WorkflowRun.objects.select_related("workflow", "version")
    return runs.filter(workflow=workflow) if workflow is not None else runs


def run_steps(*, run: WorkflowRun) -> QuerySet[StepRun]:
    return run.steps.order_by("pk")


def approval_list(*, membership=None, pending_only: bool = False) -> QuerySet[Approval]:
    """Approvals; for `membership`, those it may decide (assigned to it, or to its role or below)."""
    rows = Approval.objects.select_related("step__run__workflow", "assignee", "decided_by")
    if pending_only:
        rows = rows.filter(status=Approval.Status.PENDING)
    if membership is not None:
        rank = RANK.get(membership.role, -1)
        roles = [role for role, r in RANK.items() if r <= rank]
        mine = Q(assignee_id=membership.user_id) | Q(assignee__isnull=True, role__in=roles)
        if membership.role == "owner":
            mine |= Q(assignee__isnull=False)
        rows = rows.filter(mine)
    return rows


def workflow_health(workflow: Workflow) -> list[str]:
    """What needs attention: node types gone from the hub (published or draft), a draft that
    cannot be published."""
    notes = []
    if workflow.published is not None:
        gone = missing_types(workflow.published.graph)
        if gone:
            notes.append(f"The published version uses node types no longer installed: {', '.join(gone)}.")
    gone = missing_types(workflow.draft)
    if gone:
        notes.append(f"The draft uses node types no longer installed: {', '.join(gone)}.")
    return notes


def draft_problems(workflow: Workflow) -> list[tuple[str, str]]:
    return graph_problems(workflow.draft)


def test_run_of(*, workflow: Workflow, run_id) -> WorkflowRun | None:
    """A test run of `workflow` (None when there is none of that id: another workflow's, a real run)."""
    return (
        WorkflowRun.objects.select_related("workflow", "version")
        .filter(pk=run_id, workflow=workflow, trigger=WorkflowRun.TEST)
        .first()
    )


def runs_started_count(*, since, until) -> int:
    """Runs created in [since, until) in the current tenant, test runs and sub-workflows' runs
    left out (those a plan counts: billing's metering and limits)."""
    return (
        WorkflowRun.objects.filter(created__gte=since, created__lt=until, parent_step__isnull=True)
        .exclude(trigger=WorkflowRun.TEST)
        .count()
    )
