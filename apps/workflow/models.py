"""A tenant's workflows: each a draft graph and its published versions (immutable), the runs of a
version and each run's steps (one row per node executed), and the approvals people give.

A graph is JSON (apps/workflow/graph.py says its shape):
    {"trigger": {"type": "event" | "schedule" | "manual" | "webhook", ...},
     "nodes": [{"id": "n1", "type": "notify", "parameters": {...}, "position": {"x": 0, "y": 0}}],
     "edges": [{"from": "n1", "port": "out", "to": "n2"}]}
"""

import secrets

from django.conf import settings
from django.db import models


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Workflow(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)  # a paused workflow starts no run
    draft = models.JSONField(default=dict)  # the graph being edited; publishing copies it into a version
    published = models.ForeignKey("WorkflowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The published version's trigger, kept here so that triggers find their workflows by index.
    trigger_type = models.CharField(max_length=20, blank=True, db_index=True)
    event_type = models.CharField(max_length=100, blank=True, db_index=True)
    cron = models.CharField(max_length=100, blank=True)
    last_scheduled = models.DateTimeField(null=True, blank=True)  # the minute the schedule last fired
    hook_token = models.CharField(max_length=64, unique=True, default=new_token)  # its webhook URL
    hook_secret = models.CharField(max_length=64, default=new_token)  # signs what is sent to it
    max_concurrent_runs = models.PositiveIntegerField(default=5)
    step_limit = models.PositiveIntegerField(default=500)
    template = models.CharField(max_length=100, blank=True)  # the template it was made from
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class WorkflowVersion(models.Model):
    """A published graph. Never changed: a run refers to the version it started on.

    A `test` version is the snapshot of a draft that one test run from the builder ran on (number
    0, never published, not listed among the versions; it goes with its run)."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    graph = models.JSONField()
    note = models.CharField(max_length=200, blank=True)
    test = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "number"], condition=models.Q(test=False), name="workflow_version_unique"
            )
        ]

    def __str__(self):
        return f"{self.workflow_id} test" if self.test else f"{self.workflow_id} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("a published workflow version is immutable: publish a new one")
        super().save(*args, **kwargs)


class WorkflowRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"  # waiting for a free place (concurrency limits)
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    TEST = "test"  # `trigger` of a test run from the builder (its version a test snapshot of the draft)

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    trigger = models.CharField(max_length=20)  # event, schedule, manual, webhook, subworkflow, test
    trigger_data = models.JSONField(default=dict)  # the event's payload, the inputs, the webhook's body
    variables = models.JSONField(default=dict)  # what "set variables" nodes set
    dedupe_key = models.CharField(max_length=200, blank=True)  # "event:<id>": one run per event
    parent_step = models.ForeignKey(
        "StepRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_runs"
    )
    steps_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="workflow_run_dedupe"
            )
        ]

    def __str__(self):
        return f"run {self.pk} of {self.workflow_id}"

    @property
    def is_test(self) -> bool:
        return self.trigger == self.TEST

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class StepRun(models.Model):
    """One node executed in one run (and scope: a loop's iteration). Written before the next step
    starts: its input, output, error, attempts and timing."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting"  # a delay, an approval, a sub-workflow, a loop's iterations
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        WOULD_WAIT = "would_wait", "Would wait"  # a test run stops at a wait, an approval, a sub-workflow

    OPEN = (Status.PENDING, Status.RUNNING, Status.WAITING)

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="steps")
    node_id = models.CharField(max_length=100)
    node_type = models.CharField(max_length=100)
    scope = models.CharField(max_length=300, blank=True)  # "" or "loop1[0]", "loop1[0]/loop2[3]"
    visit = models.PositiveIntegerField(default=0)  # the node's n-th visit in its scope (a cycle with a wait)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    input = models.JSONField(default=dict)
    output = models.JSONField(null=True, blank=True)
    port = models.CharField(max_length=50, blank=True)  # the output port it left by
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)  # a retry's backoff, a wait's end
    lease_until = models.DateTimeField(null=True, blank=True)  # running: free again after this
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node_id", "scope", "visit"], name="workflow_step_unique")
        ]

    def __str__(self):
        return f"{self.node_id} of run {self.run_id}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class Approval(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    step = models.OneToOneField(StepRun, on_delete=models.CASCADE, related_name="approval")
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=20, blank=True)  # or anyone with this role (or above)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Undecided at escalate_at, it goes to the node's `escalate_to` (the sweep: engine.approvals_escalate).
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self):
        return self.title
