from apps.core.appconfig import HubAppConfig, Schema


def _approvers(event) -> list[int]:
    from django.db import connection

    from .actions import recipients

    payload = event.payload
    if payload.get("assignee_id"):
        return [payload["assignee_id"]]
    return recipients(tenant=connection.tenant, role=payload.get("role") or "admin")


def _decide_by_email(notification) -> list[tuple[str, str]]:
    """The approval e-mail's Approve and Reject buttons: signed for its recipient (no log-in)."""
    from django.urls import reverse

    from .models import Approval
    from .services import approval_link_token

    approval_id = (notification.event.payload or {}).get("approval_id") if notification.event else None
    approval = Approval.objects.filter(pk=approval_id, status=Approval.Status.PENDING).first()
    if approval is None:
        return []
    return [
        (
            label,
            reverse(
                "workflow:approval_link",
                args=[approval_link_token(approval=approval, user_id=notification.user_id, decision=decision)],
            ),
        )
        for label, decision in (("Approve", "approve"), ("Reject", "reject"))
    ]


class WorkflowConfig(HubAppConfig):
    """Workflow: a tenant automates its work without code. Versioned JSON graphs of nodes started
    by events (with NetBox-style condition sets), schedules, people or an incoming webhook, run
    durably on Celery one step at a time (apps/workflow/engine.py).

    TENANT app: a tenant's workflows, their versions, runs, steps and approvals live in its own
    schema. Pages at /workflows/, API at /api/v1/workflows/. Action nodes come from the registry's
    workflow_nodes store (this app registers "notify" and "call HTTP"; other apps and plugins
    theirs); the control nodes (condition, switch, loop, parallel, join, wait, set, transform,
    approval, sub-workflow) are the engine's own (apps/workflow/graph.py).
    """

    name = "apps.workflow"
    label = "workflow"
    schema = Schema.TENANT
    url_prefix = "workflows/"
    api_prefix = "workflows/"

    def ready(self):
        from auditlog.registry import auditlog
        from django.conf import settings

        from apps.core.registry import (
            ApiScope,
            EventHandler,
            GraphQLType,
            NavItem,
            NotificationRule,
            PeriodicTask,
            Permission,
            RetentionType,
            register_api_scope,
            register_event_handler,
            register_event_type,
            register_graphql_type,
            register_nav_item,
            register_notification_rule,
            register_periodic_task,
            register_permission,
            register_retention_type,
            register_workflow_node,
        )

        from .actions import NODES
        from .events import EVENT_TYPES
        from .models import Approval, Workflow, WorkflowVersion
        from .services import workflows_for_events

        register_permission(
            Permission(
                "workflow.view",
                "Workflows: see workflows and their runs",
                role="viewer",
                description="See the workflows, their versions, runs and each step's data.",
            ),
            Permission(
                "workflow.run",
                "Workflows: start, cancel and re-run",
                role="member",
                description="Start a workflow by hand, cancel a run, re-run it from its failed step.",
            ),
            Permission(
                "workflow.approve",
                "Workflows: approve or reject",
                role="member",
                description="Decide the approvals assigned to oneself or one's role.",
            ),
            Permission(
                "workflow.edit",
                "Workflows: create and change workflows",
                role="admin",
                description="Create, edit, publish, pause and delete workflows (they act for the organisation).",
            ),
        )
        register_nav_item(
            NavItem("Workflows", "workflow:index", permission="workflow.view", weight=55),
            NavItem("Approvals", "workflow:approvals", permission="workflow.approve", weight=56),
        )
        register_api_scope(ApiScope("workflows", "Workflows: their graphs, runs and approvals.", label="Workflows"))
        from . import graphql

        register_graphql_type(
            GraphQLType(
                "Workflow", graphql.Workflow, graphql.ROOT_FIELDS, "Workflows, their runs and approvals.",
                query=graphql.WorkflowQuery, mutation=graphql.WorkflowMutation,
            ),
            GraphQLType("Run", graphql.Run, description="A workflow's run."),
            GraphQLType("Approval", graphql.Approval, description="An approval a run waits for."),
        )  # fmt: skip
        register_event_type(*EVENT_TYPES)
        register_retention_type(
            RetentionType(
                "workflow.run",
                "Workflow runs",
                "workflow.WorkflowRun",
                "finished_at",
                ("delete", "anonymise", "archive"),
                note="Finished runs only, with their steps and approvals; anonymising removes who started "
                "them (the data a run carried stays).",
            )
        )
        register_event_handler(EventHandler("*", workflows_for_events, batch=True))
        register_notification_rule(
            NotificationRule(
                "workflow.approval_requested", _approvers, default_channel="both", email_actions=_decide_by_email
            ),
            NotificationRule(
                "workflow.approval_escalated", _approvers, default_channel="both", email_actions=_decide_by_email
            ),
            NotificationRule("workflow.run_failed", lambda event: _admins(), default_channel="in_app"),
        )
        register_periodic_task(
            PeriodicTask("workflow-schedules", "apps.workflow.tasks.fire_schedules_all_tenants", 60.0),
            PeriodicTask(
                "workflow-recover",
                "apps.workflow.tasks.recover_runs_all_tenants",
                settings.HUB_WORKFLOW_RECOVERY_SECONDS,
            ),
        )
        register_workflow_node(*NODES)
        auditlog.register(Workflow, exclude_fields=["last_scheduled", "updated"])
        auditlog.register(WorkflowVersion)
        # An approval is a person's decision: who decided what, when. Runs and their steps are not
        # audited (tests/compliance/test_audit_chain.py, NOT_AUDITED): they are the run log itself.
        auditlog.register(Approval)
        # Personal data: who made each workflow and version, who started a run, who was asked to
        # approve and who decided (the compliance data inventory). Erasure takes the person's name
        # off; an approval still waiting goes to its role (or the admins) instead.
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "workflow",
            "Workflows",
            (
                PersonalData("workflow.Workflow", ("content",), ("name", "created"), "Who created each workflow."),
                PersonalData(
                    "workflow.WorkflowVersion", ("activity",), ("workflow_id", "number", "note", "created"),
                    "Who published each version of a workflow, in its history.",
                ),
                PersonalData(
                    "workflow.WorkflowRun", ("activity",), ("workflow_id", "status", "trigger", "created"),
                    "Who started a workflow run by hand.",
                ),
                PersonalData(
                    "workflow.Approval", ("activity",), ("title", "status", "decided_at", "comment", "created"),
                    "Who is asked to approve a workflow's step, and who decided it, with their comment.",
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)


def _admins() -> list[int]:
    from django.db import connection

    from .actions import recipients

    return recipients(tenant=connection.tenant, role="admin")
