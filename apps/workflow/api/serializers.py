from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer, StrictCharField

from .. import selectors
from ..models import Approval, StepRun, Workflow, WorkflowRun, WorkflowVersion

GRAPH_HELP = (
    "The graph: {trigger: {type: event|schedule|manual|webhook, …}, nodes: [{id, type, parameters, "
    "position}], edges: [{from, port, to}]} (see the workflow docs)."
)


class WorkflowSerializer(HubModelSerializer):
    draft = serializers.DictField(required=False, help_text=GRAPH_HELP)
    published_version = serializers.IntegerField(source="published.number", read_only=True, allow_null=True)
    needs_attention = serializers.SerializerMethodField(help_text="Node types gone from the hub, and the like.")
    webhook_path = serializers.SerializerMethodField(help_text="Where its webhook trigger listens (POST, signed).")

    class Meta:
        model = Workflow
        fields = [
            "id",
            "name",
            "description",
            "enabled",
            "draft",
            "published_version",
            "trigger_type",
            "event_type",
            "cron",
            "max_concurrent_runs",
            "step_limit",
            "needs_attention",
            "webhook_path",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "trigger_type", "event_type", "cron", "created", "updated"]

    def get_needs_attention(self, workflow) -> list[str]:
        return selectors.workflow_health(workflow)

    def get_webhook_path(self, workflow) -> str | None:
        return f"/workflows/hooks/{workflow.hook_token}/" if workflow.trigger_type == "webhook" else None


class WorkflowCreateSerializer(WorkflowSerializer):
    template = StrictCharField(required=False, write_only=True, help_text="Start from a ready workflow (its key).")
    publish = serializers.BooleanField(required=False, default=False, write_only=True)
    name = StrictCharField(max_length=200, required=False)

    class Meta(WorkflowSerializer.Meta):
        fields = [*WorkflowSerializer.Meta.fields, "template", "publish"]


class WorkflowVersionSerializer(HubModelSerializer):
    class Meta:
        model = WorkflowVersion
        fields = ["number", "graph", "note", "created"]


class PublishSerializer(serializers.Serializer):
    note = StrictCharField(max_length=200, required=False, default="")


class RunInputSerializer(serializers.Serializer):
    inputs = serializers.DictField(required=False, default=dict)


class StepSerializer(HubModelSerializer):
    class Meta:
        model = StepRun
        fields = [
            "id",
            "node_id",
            "node_type",
            "scope",
            "status",
            "input",
            "output",
            "port",
            "error",
            "attempts",
            "created",
            "started_at",
            "finished_at",
        ]


class RunSerializer(HubModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True)

    class Meta:
        model = WorkflowRun
        fields = [
            "id",
            "workflow",
            "version",
            "status",
            "trigger",
            "trigger_data",
            "variables",
            "error",
            "steps_count",
            "created",
            "started_at",
            "finished_at",
        ]


class RunDetailSerializer(RunSerializer):
    steps = StepSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "steps"]


class ApprovalSerializer(HubModelSerializer):
    run = serializers.IntegerField(source="step.run_id", read_only=True)
    workflow = serializers.CharField(source="step.run.workflow.name", read_only=True)

    class Meta:
        model = Approval
        fields = [
            "id",
            "run",
            "workflow",
            "title",
            "details",
            "assignee",
            "role",
            "status",
            "decided_by",
            "decided_at",
            "comment",
            "created",
            "escalate_at",
            "escalated_at",
        ]


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    comment = StrictCharField(required=False, default="", allow_blank=True, max_length=2000)


class NodeTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    ports = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()
    config_schema = serializers.DictField(required=False)
