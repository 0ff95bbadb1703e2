"""workflow's GraphQL types (apps.api.graphql): workflows, their runs and approvals, over the
selectors and services of /api/v1/workflows/ (api/views.py), with the same scope (`workflows`) and
permissions: reading needs workflow.view; starting and cancelling a run workflow.run; deciding an
approval workflow.approve (and the approval must be the member's to decide, as the service says)."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay
from strawberry.scalars import JSON

from apps.core.api.serializers import storable_json, valid
from apps.core.graphql import context, filtered_by_choice, needs, pk_of

from . import selectors, services
from .api.serializers import DecisionSerializer, RunInputSerializer
from .models import Approval as ApprovalModel
from .models import Workflow as WorkflowModel
from .models import WorkflowRun

READ = needs("workflows", "workflow.view")
RUN = needs("workflows", "workflow.run", write=True)
APPROVE = needs("workflows", "workflow.approve", write=True)


@strawberry.type(description="A run of a workflow.")
class Run:
    id: strawberry.ID
    status: str = strawberry.field(description="queued, running, waiting, succeeded, failed or cancelled.")
    trigger: str = strawberry.field(description="What started it: event, schedule, manual, webhook, …")
    trigger_data: JSON
    variables: JSON
    error: str
    steps_count: int
    created: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @strawberry.field
    def workflow_id(self: WorkflowRun) -> strawberry.ID:
        return strawberry.ID(str(self.workflow_id))

    @strawberry.field(description="The number of the workflow's version it runs.")
    def version(self: WorkflowRun) -> int:
        return self.version.number


@strawberry.type(description="A workflow: a trigger and the steps it runs.")
class Workflow:
    id: strawberry.ID
    name: str
    description: str
    enabled: bool
    trigger_type: str
    event_type: str
    cron: str
    created: datetime
    updated: datetime

    @strawberry.field(description="The number of its published version (null: never published).")
    def published_version(self: WorkflowModel) -> int | None:
        return self.published.number if self.published else None

    @relay.connection(relay.ListConnection[Run])
    def runs(self: WorkflowModel) -> Iterable[Run]:
        """Its runs, newest first."""
        return selectors.run_list(workflow=self).order_by("-id")


@strawberry.type(description="A step of a run waiting for a person to approve or reject it.")
class Approval:
    id: strawberry.ID
    title: str
    details: str
    role: str
    status: str = strawberry.field(description="pending, approved, rejected or expired.")
    comment: str
    created: datetime
    decided_at: datetime | None

    @strawberry.field
    def run_id(self: ApprovalModel) -> strawberry.ID:
        return strawberry.ID(str(self.step.run_id))

    @strawberry.field(description="The workflow's name.")
    def workflow(self: ApprovalModel) -> str:
        return self.step.run.workflow.name

    @strawberry.field
    def assignee(self: ApprovalModel) -> str | None:
        return self.assignee.email if self.assignee else None

    @strawberry.field
    def decided_by(self: ApprovalModel) -> str | None:
        return self.decided_by.email if self.decided_by else None


def _approvals(info):
    """The approvals the caller may decide, as GET /api/v1/workflows/approvals/ lists them."""
    return selectors.approval_list(membership=context(info).membership).order_by("-id")


@strawberry.type
class WorkflowQuery:
    @relay.connection(relay.ListConnection[Workflow], permission_classes=[READ])
    def workflows(self, info: Info) -> Iterable[Workflow]:
        """The workflows, oldest first (as GET /api/v1/workflows/)."""
        return selectors.workflow_list().order_by("id")

    @strawberry.field(permission_classes=[READ])
    def workflow(self, info: Info, id: strawberry.ID) -> Workflow | None:
        """One workflow (null: no such workflow here)."""
        return selectors.workflow_list().filter(pk=pk_of(id)).first()

    @relay.connection(relay.ListConnection[Run], permission_classes=[READ])
    def runs(self, info: Info, workflow: strawberry.ID | None = None, status: str | None = None) -> Iterable[Run]:
        """Runs, newest first, of one workflow and in one status if given (as GET /api/v1/workflows/runs/)."""
        runs = selectors.run_list().order_by("-id")
        if workflow is not None:
            runs = runs.filter(workflow_id=pk_of(workflow))
        return filtered_by_choice(runs, "status", status, WorkflowRun.Status)

    @strawberry.field(permission_classes=[READ])
    def run(self, info: Info, id: strawberry.ID) -> Run | None:
        """One run (null: no such run here)."""
        return selectors.run_list().filter(pk=pk_of(id)).first()

    @relay.connection(relay.ListConnection[Approval], permission_classes=[READ])
    def approvals(self, info: Info, status: str | None = None) -> Iterable[Approval]:
        """The approvals the caller may decide, newest first (as GET /api/v1/workflows/approvals/)."""
        return filtered_by_choice(_approvals(info), "status", status, ApprovalModel.Status)

    @strawberry.field(permission_classes=[READ])
    def approval(self, info: Info, id: strawberry.ID) -> Approval | None:
        """One approval the caller may decide (null: none such)."""
        return _approvals(info).filter(pk=pk_of(id)).first()


@strawberry.type
class WorkflowMutation:
    @strawberry.mutation(permission_classes=[RUN])
    def start_run(self, info: Info, workflow: strawberry.ID, inputs: JSON | None = None) -> Run:
        """Start a run by hand with `inputs`, as POST /api/v1/workflows/{id}/run/."""
        found = selectors.workflow_list().get(pk=pk_of(workflow))
        data = valid(RunInputSerializer, {"inputs": {} if inputs is None else inputs})
        ctx = context(info)
        return services.run_manual(
            tenant=ctx.tenant, workflow=found, inputs=storable_json(data["inputs"], "inputs"), actor=ctx.user
        )

    @strawberry.mutation(permission_classes=[RUN])
    def cancel_run(self, info: Info, id: strawberry.ID) -> Run:
        """Cancel a run, as POST /api/v1/workflows/runs/{id}/cancel/."""
        return services.run_cancel(run=selectors.run_list().get(pk=pk_of(id)), actor=context(info).user)

    @strawberry.mutation(permission_classes=[APPROVE])
    def decide_approval(self, info: Info, id: strawberry.ID, decision: str, comment: str = "") -> Approval:
        """Approve or reject (decision: approve or reject), as POST /api/v1/workflows/approvals/{id}/decide/."""
        approval = _approvals(info).get(pk=pk_of(id))
        data = valid(DecisionSerializer, {"decision": decision, "comment": comment})
        return services.approval_decide(
            approval=approval, membership=context(info).membership,
            approve=data["decision"] == "approve", comment=data["comment"],
        )  # fmt: skip


ROOT_FIELDS = (
    "workflows", "workflow", "runs", "run", "approvals", "approval", "startRun", "cancelRun", "decideApproval",
)  # fmt: skip
