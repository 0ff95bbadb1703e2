"""/api/v1/workflows/: workflows (their drafts, publishing, versions, a manual run), their runs
(with each step's data; cancel, re-run from the failed step), approvals (decide), and the node
types a graph may use."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.filters import HubFilterSet, IdFilter
from apps.core.api.serializers import CatalogueQuerySerializer, storable_json, valid
from apps.core.api.views import HubAPIView, HubGenericViewSet, mixins

from .. import selectors, services
from ..graph import node_catalogue
from ..models import WorkflowRun
from .serializers import (
    ApprovalSerializer,
    DecisionSerializer,
    NodeTypeSerializer,
    PublishSerializer,
    RunDetailSerializer,
    RunInputSerializer,
    RunSerializer,
    WorkflowCreateSerializer,
    WorkflowSerializer,
    WorkflowVersionSerializer,
)

ACTION_PERMISSIONS = {
    "run": "workflow.run",
    "cancel": "workflow.run",
    "retry": "workflow.run",
    "decide": "workflow.approve",
}


class _Permissions:
    def required_permission(self, request):
        return ACTION_PERMISSIONS.get(getattr(self, "action", None))


@extend_schema_view(
    list=extend_schema(summary="List workflows by name"),
    retrieve=extend_schema(summary="One workflow, with its draft graph"),
    create=extend_schema(summary="Add a workflow (optionally from a template, optionally published)"),
    partial_update=extend_schema(summary="Change a workflow's draft graph or settings"),
    destroy=extend_schema(summary="Delete a workflow and its runs"),
)
class WorkflowViewSet(
    _Permissions,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    api_scope = "workflows"
    read_permission = "workflow.view"
    write_permission = "workflow.edit"
    serializer_class = WorkflowSerializer
    ordering_fields = ["id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.workflow_list().order_by("id")

    def get_serializer_class(self):
        return WorkflowCreateSerializer if self.action == "create" else WorkflowSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        tenant, actor = self.request.tenant, self.request.user
        if data.get("template"):
            serializer.instance = services.workflow_from_template(tenant=tenant, key=data["template"], actor=actor)
            return
        serializer.instance = services.workflow_create(
            tenant=tenant,
            actor=actor,
            name=data.get("name", ""),
            description=data.get("description", ""),
            graph=storable_json(data.get("draft"), "draft"),
            publish_now=data.get("publish", False),
            max_concurrent_runs=data.get("max_concurrent_runs"),
            step_limit=data.get("step_limit"),
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.workflow_update(
            tenant=self.request.tenant,
            actor=self.request.user,
            workflow=serializer.instance,
            graph=storable_json(data.pop("draft", None), "draft"),
            **data,
        )

    def perform_destroy(self, instance):
        services.workflow_delete(tenant=self.request.tenant, actor=self.request.user, workflow=instance)

    @extend_schema(
        summary="Publish the draft as a new version",
        description="422 naming each problem of the graph (graph.edges.0.to: the edge dangles, …).",
        request=PublishSerializer,
        responses=WorkflowVersionSerializer,
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, *args, **kwargs):
        workflow = self.get_object()  # another tenant's id is a 404 whatever the body
        body = PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.workflow_publish(
            tenant=request.tenant, workflow=workflow, actor=request.user, note=body.validated_data["note"]
        )
        return Response(WorkflowVersionSerializer(version).data, status=201)

    @extend_schema(
        summary="The workflow's published versions, newest first", responses=WorkflowVersionSerializer(many=True)
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, *args, **kwargs):
        rows = selectors.workflow_versions(workflow=self.get_object())
        return Response(WorkflowVersionSerializer(rows, many=True).data)

    @extend_schema(summary="Start a run by hand, with inputs", request=RunInputSerializer, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def run(self, request, *args, **kwargs):
        workflow = self.get_object()
        body = RunInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = services.run_manual(
            tenant=request.tenant,
            workflow=workflow,
            inputs=storable_json(body.validated_data["inputs"], "inputs"),
            actor=request.user,
        )
        return Response(RunSerializer(run).data, status=202)


class RunFilter(HubFilterSet):
    # An id, not a choice among the tenant's workflows: an unknown one lists nothing (never a 400).
    workflow = IdFilter(field_name="workflow_id", help_text="A workflow's id: its runs only.")

    class Meta:
        model = WorkflowRun
        fields = ["workflow", "status"]


@extend_schema_view(
    list=extend_schema(summary="List workflow runs, newest first"),
    retrieve=extend_schema(summary="One run with each step's input, output, error, attempts and timing"),
)
class RunViewSet(_Permissions, mixins.ListModelMixin, mixins.RetrieveModelMixin, HubGenericViewSet):
    api_scope = "workflows"
    read_permission = "workflow.view"
    write_permission = "workflow.run"
    serializer_class = RunSerializer
    ordering_fields = ["id"]
    filterset_class = RunFilter

    def get_queryset(self):
        rows = selectors.run_list().order_by("-id")
        return rows.prefetch_related("steps") if self.action == "retrieve" else rows

    def get_serializer_class(self):
        return RunDetailSerializer if self.action == "retrieve" else RunSerializer

    @extend_schema(summary="Cancel a run", request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        run = services.run_cancel(run=self.get_object(), actor=request.user)
        return Response(RunSerializer(run).data)

    @extend_schema(summary="Re-run a failed run from its failed step", request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        run = services.run_retry(run=self.get_object(), actor=request.user)
        return Response(RunSerializer(run).data, status=202)


@extend_schema_view(
    list=extend_schema(summary="List approvals the caller may decide, newest first"),
    retrieve=extend_schema(summary="One approval"),
)
class ApprovalViewSet(_Permissions, mixins.ListModelMixin, mixins.RetrieveModelMixin, HubGenericViewSet):
    api_scope = "workflows"
    read_permission = "workflow.view"
    write_permission = "workflow.approve"
    serializer_class = ApprovalSerializer
    ordering_fields = ["id"]
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.approval_list().none()
        return selectors.approval_list(membership=self.request._request.membership).order_by("-id")

    @extend_schema(summary="Approve or reject", request=DecisionSerializer, responses=ApprovalSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, *args, **kwargs):
        approval = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approval = services.approval_decide(
            approval=approval,
            membership=request._request.membership,
            approve=body.validated_data["decision"] == "approve",
            comment=body.validated_data["comment"],
        )
        return Response(ApprovalSerializer(approval).data)


class NodeTypesView(HubAPIView):
    """GET /api/v1/workflows/node-types/: the node types a graph may use now (each one's
    `config_schema` and `output_schema` with `?expand=schemas` or `?key=<type>`)."""

    api_scope = "workflows"
    read_permission = "workflow.view"
    SCHEMAS = ("config_schema", "output_schema")

    @extend_schema(
        summary="The node types a graph may use now",
        parameters=[CatalogueQuerySerializer],
        responses=NodeTypeSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        query = valid(CatalogueQuerySerializer, request.query_params)
        key = query.get("key")
        items = [i for i in node_catalogue() if key is None or i["type"] == key]
        if not key and "expand" not in query:
            items = [{k: v for k, v in i.items() if k not in self.SCHEMAS} for i in items]
        return Response(NodeTypeSerializer(items, many=True).data)
