"""The event types Workflow publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType

_RUN_FIELDS = {
    "run_id": {"type": "integer"},
    "workflow_id": {"type": "integer"},
    "workflow": {"type": "string"},
    "version": {"type": "integer"},
    "trigger": {"type": "string"},
}
_RUN_REQUIRED = list(_RUN_FIELDS)
_APPROVAL_SCHEMA = payload_schema(
    {
        **_RUN_FIELDS,
        "approval_id": {"type": "integer"},
        "title": {"type": "string"},
        "assignee_id": {"type": ["integer", "null"]},
        "role": {"type": "string"},
    },
    [*_RUN_REQUIRED, "approval_id", "title"],
)


def _run_page(event) -> str:
    return reverse("workflow:run", args=[event.payload["run_id"]])


def _approvals_page(event) -> str:
    return reverse("workflow:approvals")


def _workflow_page(event) -> str:
    return reverse("workflow:workflow", args=[event.payload["workflow_id"]])


EVENT_TYPES = [
    EventType(
        "workflow.published",
        "Workflow published",
        "A new version of a workflow was published: its runs from now on use it.",
        payload_schema(
            {"workflow_id": {"type": "integer"}, "workflow": {"type": "string"}, "version": {"type": "integer"}},
            ["workflow_id", "workflow", "version"],
        ),
        summary="{actor} published version {version} of the workflow “{workflow}”",
        link=_workflow_page,
    ),
    EventType(
        "workflow.run_started",
        "Workflow run started",
        "A workflow started a run (by an event, a schedule, a person or its webhook).",
        payload_schema(_RUN_FIELDS, _RUN_REQUIRED),
        summary="The workflow “{workflow}” started (run {run_id}, by {trigger})",
        link=_run_page,
    ),
    EventType(
        "workflow.run_succeeded",
        "Workflow run succeeded",
        "A workflow run finished every step.",
        payload_schema(_RUN_FIELDS, _RUN_REQUIRED),
        summary="The workflow “{workflow}” finished (run {run_id})",
        link=_run_page,
    ),
    EventType(
        "workflow.run_failed",
        "Workflow run failed",
        "A workflow run stopped on a step that failed (the reason is in the payload).",
        payload_schema({**_RUN_FIELDS, "error": {"type": "string"}}, [*_RUN_REQUIRED, "error"]),
        summary="The workflow “{workflow}” failed (run {run_id}): {error}",
        link=_run_page,
    ),
    EventType(
        "workflow.approval_requested",
        "Approval requested",
        "A workflow waits for a person (or anyone with a role) to approve or reject.",
        _APPROVAL_SCHEMA,
        summary="The workflow “{workflow}” asks for approval: {title}",
        link=_approvals_page,
    ),
    EventType(
        "workflow.approval_escalated",
        "Approval escalated",
        "An approval was not decided in time and went to the person (or role) its workflow names.",
        _APPROVAL_SCHEMA,
        summary="The approval “{title}” of the workflow “{workflow}” was not decided in time and went up",
        link=_approvals_page,
    ),
    EventType(
        "workflow.message",
        "Workflow message",
        "A notification a workflow's “Notify people” step sent (not published as an event of its own).",
        payload_schema({}, []),
    ),
]
