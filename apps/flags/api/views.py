"""/api/v1/flags/: the flags (list, read, add, change, delete, versions, rollback), evaluation for
one person, and the definitions for server SDKs that evaluate locally."""

from django.db import connection
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.api.authentication import ApiKeyAuthentication, SessionAuthentication
from apps.core.api.exceptions import problem_response
from apps.core.api.views import HubAPIView, HubGenericViewSet, mixins

from .. import selectors, services
from ..cors import preflight
from .auth import EvaluatePermission, ProjectKeyAuthentication, ProjectKeyCredential
from .serializers import (
    EvaluateAnswerSerializer,
    EvaluateSerializer,
    FlagSerializer,
    FlagVersionSerializer,
    LocalDefinitionsSerializer,
    RollbackSerializer,
)


def answer_of(result) -> dict:
    value = result.value
    return {
        "value": value,
        "enabled": value is not False,
        "variant": value if isinstance(value, str) else None,
        "payload": result.payload,
        "reason": result.reason,
    }


@extend_schema_view(
    list=extend_schema(summary="List feature flags by key"),
    retrieve=extend_schema(summary="One feature flag"),
    create=extend_schema(summary="Add a feature flag"),
    partial_update=extend_schema(summary="Change a feature flag (a new version)"),
    destroy=extend_schema(summary="Delete a feature flag"),
)
class FlagViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    api_scope = "flags"
    read_permission = "flags.view"
    write_permission = "flags.edit"
    serializer_class = FlagSerializer
    ordering_fields = ["id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.flag_list().order_by("id")

    def perform_create(self, serializer):
        serializer.instance = services.flag_create(
            tenant=self.request.tenant, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.flag_update(
            tenant=self.request.tenant, actor=self.request.user, flag=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.flag_delete(tenant=self.request.tenant, actor=self.request.user, flag=instance)

    @extend_schema(summary="The flag's versions, newest first", responses=FlagVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a flag has few versions: all at once
    def versions(self, request, *args, **kwargs):
        rows = selectors.flag_versions(flag=self.get_object())
        return Response(FlagVersionSerializer(rows, many=True).data)

    @extend_schema(summary="Make an earlier version current again", request=RollbackSerializer)
    @action(detail=True, methods=["post"])
    def rollback(self, request, *args, **kwargs):
        flag = self.get_object()
        body = RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        flag = services.flag_rollback(
            tenant=request.tenant, actor=request.user, flag=flag, version=body.validated_data["version"]
        )
        return Response(FlagSerializer(flag).data)


class EvaluateView(HubAPIView):
    """POST /api/v1/flags/evaluate: every flag's value and payload for one person."""

    api_scope = "flags"
    read_permission = "flags.view"
    post_reads = True
    authentication_classes = [ProjectKeyAuthentication, ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [EvaluatePermission]

    @extend_schema(
        summary="Evaluate the flags for one person",
        description=(
            "With an API key (scope flags:read) or the analytics project key (`phc_…`, in the "
            "Authorization header or as api_key in the body). Each flag evaluated is recorded as a "
            "`$feature_flag_called` analytics event unless exposures is false. A property that is "
            "not sent makes its condition false."
        ),
        request=EvaluateSerializer,
        responses=EvaluateAnswerSerializer,
    )
    def post(self, request, *args, **kwargs):
        body = EvaluateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        results = selectors.evaluate(
            distinct_id=data["distinct_id"],
            properties=data["properties"],
            groups=data["groups"],
            group_properties=data["group_properties"],
            keys=set(data["flags"]) if data.get("flags") else None,
        )
        if data["exposures"]:
            services.exposures_record(schema=connection.schema_name, distinct_id=data["distinct_id"], results=results)
        response = Response({"flags": {key: answer_of(result) for key, result in results.items()}})
        origin = request._request.headers.get("Origin", "")
        if origin and isinstance(request.auth, ProjectKeyCredential):
            if not request.auth.entry.allows_origin(origin):
                return problem_response(
                    403, f"This project key does not allow calls from {origin}.", "origin_not_allowed"
                )
            response["Access-Control-Allow-Origin"], response["Vary"] = origin, "Origin"
        return response

    @extend_schema(exclude=True)
    def options(self, request, *args, **kwargs):
        """A browser's CORS preflight, allowed for the origins of the tenant's project keys."""
        return preflight(request._request)


class LocalEvaluationView(HubAPIView):
    """GET /api/v1/flags/local-evaluation: the definitions, for a server SDK to evaluate locally
    (an API key or a member's session only: the rules name people and properties)."""

    api_scope = "flags"
    read_permission = "flags.view"

    @extend_schema(
        summary="The flags' definitions for local evaluation",
        description="PostHog's local-evaluation shape: flags, group_type_mapping, cohorts.",
        responses=LocalDefinitionsSerializer,
    )
    def get(self, request, *args, **kwargs):
        return Response(selectors.local_definitions())
