"""Workflow's data tables: workflows, versions, runs, a run's steps, approvals."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from apps.core.tables import ActionsColumn, DataTable, TimeColumn, badge

from .graph import TRIGGERS
from .models import StepRun, WorkflowRun
from .selectors import workflow_health

RUN_TONES = {
    WorkflowRun.Status.QUEUED: "neutral",
    WorkflowRun.Status.RUNNING: "info",
    WorkflowRun.Status.SUCCEEDED: "success",
    WorkflowRun.Status.FAILED: "danger",
    WorkflowRun.Status.CANCELLED: "neutral",
}
STEP_TONES = {
    StepRun.Status.PENDING: "neutral",
    StepRun.Status.RUNNING: "info",
    StepRun.Status.WAITING: "warning",
    StepRun.Status.SUCCEEDED: "success",
    StepRun.Status.FAILED: "danger",
    StepRun.Status.CANCELLED: "neutral",
    StepRun.Status.WOULD_WAIT: "warning",
}
APPROVAL_TONES = {"pending": "warning", "approved": "success", "rejected": "danger", "cancelled": "neutral"}


def duration_words(delta) -> str:
    if delta is None:
        return "—"
    seconds = delta.total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def trigger_words(workflow) -> str:
    if not workflow.trigger_type:
        return "Not published"
    words = TRIGGERS.get(workflow.trigger_type, workflow.trigger_type)
    if workflow.trigger_type == "event":
        from apps.core.registry import registry

        event = registry["event_types"].get(workflow.event_type)
        return f"When: {event.label if event else workflow.event_type}"
    if workflow.trigger_type == "schedule":
        return f"On a schedule ({workflow.cron})"
    return words


def state_of(workflow) -> tuple[str, str]:
    if workflow_health(workflow):
        return "Needs attention", "danger"
    if workflow.published_id is None:
        return "Draft", "neutral"
    return ("On", "success") if workflow.enabled else ("Paused", "warning")


class WorkflowsTable(DataTable):
    name = tables.Column(verbose_name="Workflow")
    trigger = tables.Column(verbose_name="Starts", accessor="trigger_type", orderable=False)
    state = tables.Column(verbose_name="State", accessor="enabled", orderable=False)
    version = tables.Column(verbose_name="Version", accessor="published__number", default="—")
    updated = TimeColumn(verbose_name="Changed")

    search_fields = ("name", "description")
    export_name = "workflows"

    class Meta(DataTable.Meta):
        row_attrs = {"data-workflow": lambda record: record.pk}
        empty_text = "No workflows yet."

    def render_name(self, value, record):
        return format_html('<a href="{}">{}</a>', reverse("workflow:workflow", args=[record.pk]), value)

    def render_trigger(self, record):
        return trigger_words(record)

    def value_trigger(self, record, **kwargs):
        return trigger_words(record)

    def render_state(self, record):
        return badge(*state_of(record))

    def value_state(self, record, **kwargs):
        return state_of(record)[0]


class VersionsTable(DataTable):
    number = tables.Column(verbose_name="Version")
    note = tables.Column(verbose_name="Note", default="—")
    nodes = tables.Column(verbose_name="Nodes", accessor="graph", orderable=False)
    created_by = tables.Column(verbose_name="By", default="—")
    created = TimeColumn(verbose_name="Published")

    export_name = "workflow-versions"
    rows_per_page = 10

    class Meta(DataTable.Meta):
        empty_text = "Not published yet."

    def render_nodes(self, value):
        return len(value.get("nodes", []))

    def value_nodes(self, value, **kwargs):
        return len(value.get("nodes", []))


class RunsTable(DataTable):
    id = tables.Column(verbose_name="Run")
    workflow = tables.Column(verbose_name="Workflow", accessor="workflow__name")
    status = tables.Column(verbose_name="Status")
    trigger = tables.Column(verbose_name="Started by")
    created = TimeColumn(verbose_name="When")
    duration = tables.Column(verbose_name="Took", empty_values=(), orderable=False)
    error = tables.Column(verbose_name="Reason", default="", orderable=False)

    search_fields = ("workflow__name", "error")
    export_name = "workflow-runs"

    class Meta(DataTable.Meta):
        row_attrs = {"data-run": lambda record: record.pk, "data-status": lambda record: record.status}
        empty_text = "No runs yet."

    def __init__(self, *args, one_workflow: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if one_workflow:
            self.columns.hide("workflow")

    def render_id(self, value, record):
        return format_html('<a href="{}">Run {}</a>', reverse("workflow:run", args=[record.pk]), value)

    def render_status(self, value, record):
        return badge(record.get_status_display(), RUN_TONES.get(record.status, "neutral"))

    def render_trigger(self, value, record):
        return "a test from the builder" if record.is_test else value

    def value_trigger(self, value, record, **kwargs):
        return self.render_trigger(value, record)

    def value_status(self, record, **kwargs):
        return record.get_status_display()

    def render_duration(self, record):
        return duration_words(record.duration)

    def value_duration(self, record, **kwargs):
        return record.duration.total_seconds() if record.duration else ""

    def render_error(self, value):
        return value[:140] + ("…" if len(value) > 140 else "")


class StepsTable(DataTable):
    node_id = tables.Column(verbose_name="Step")
    node_type = tables.Column(verbose_name="Node")
    scope = tables.Column(verbose_name="Iteration", default="—")
    status = tables.Column(verbose_name="Status")
    port = tables.Column(verbose_name="Went on by", default="—")
    attempts = tables.Column(verbose_name="Attempts")
    started_at = TimeColumn(verbose_name="Started")
    duration = tables.Column(verbose_name="Took", empty_values=(), orderable=False)

    export_name = "workflow-steps"
    rows_per_page = 100

    class Meta(DataTable.Meta):
        row_attrs = {"data-step": lambda record: record.node_id, "data-status": lambda record: record.status}
        empty_text = "No steps yet."

    def render_node_id(self, value, record):
        return format_html('<a href="#step-{}"><code>{}</code></a>', record.pk, value)

    def render_status(self, value, record):
        return badge(record.get_status_display(), STEP_TONES.get(record.status, "neutral"))

    def value_status(self, record, **kwargs):
        return record.get_status_display()

    def render_duration(self, record):
        return duration_words(record.duration)

    def value_duration(self, record, **kwargs):
        return record.duration.total_seconds() if record.duration else ""


class ApprovalsTable(DataTable):
    title = tables.Column(verbose_name="Request")
    workflow = tables.Column(verbose_name="Workflow", accessor="step__run__workflow__name")
    asked = tables.Column(verbose_name="Asked of", accessor="role", orderable=False)
    status = tables.Column(verbose_name="Status")
    created = TimeColumn(verbose_name="Asked")
    actions = ActionsColumn("workflow/_approval_actions.html")

    search_fields = ("title", "details")
    export_name = "approvals"

    class Meta(DataTable.Meta):
        row_attrs = {"data-approval": lambda record: record.pk}
        empty_text = "Nothing waits for your approval."

    def render_title(self, value, record):
        return format_html(
            '{}<br><a class="muted" href="{}">Run {}</a>',
            value,
            reverse("workflow:run", args=[record.step.run_id]),
            record.step.run_id,
        )

    def value_title(self, value, **kwargs):
        return value

    def render_asked(self, record):
        if record.assignee_id:
            who = record.assignee.get_full_name() or record.assignee.email
        else:
            who = f"Any {record.role or 'admin'} or above"
        return f"{who} (escalated: not decided in time)" if record.escalated_at else who

    def value_asked(self, record, **kwargs):
        return self.render_asked(record)

    def render_status(self, value, record):
        return badge(record.get_status_display(), APPROVAL_TONES.get(record.status, "neutral"))

    def value_status(self, record, **kwargs):
        return record.get_status_display()
