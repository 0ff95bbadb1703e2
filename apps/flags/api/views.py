"""/api/v1/flags/: the flags (list, read, add, change, delete, versions, rollback), evaluation for
one person, and the definitions for server SDKs that evaluate locally."""

from django.db import connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.analytics.cors import cors, preflight
from apps.api.authentication import ApiKeyAuthentication, SessionAuthentication
from apps.core.api.exceptions import Unprocessable, problem_response
from apps.core.api.views import HubAPIView, HubModelViewSet

from .. import experiments, selectors, services
from ..models import DeclaredProperty, Flag
from .auth import EvaluatePermission, ProjectKeyAuthentication, ProjectKeyCredential
from .serializers import (
    DeclaredPropertySerializer,
    EvaluateAnswerSerializer,
    EvaluateSerializer,
    ExperimentSerializer,
    FlagSerializer,
    FlagVersionSerializer,
    LocalDefinitionsSerializer,
    RollbackSerializer,
    ShipSerializer,
)


def evaluation(data: dict, *, schema: str, flags: dict | None = None) -> dict:
    """The answer to a well-formed request (EvaluateSerializer's validated data) among `flags`
    (by default the schema's compiled flags), its exposures recorded unless it says not to: the
    view's, and the fast path's (apps.flags.fastpath)."""
    results = selectors.evaluate(
        distinct_id=data["distinct_id"],
        properties=data["properties"],
        groups=data["groups"],
        group_properties=data["group_properties"],
        keys=set(data["flags"]) if data.get("flags") else None,
        flags=flags,
    )
    if data["exposures"]:
        services.exposures_record(
            schema=schema, distinct_id=data["distinct_id"], results=results, groups=data["groups"]
        )
    return {"flags": {key: answer_of(result) for key, result in results.items()}}


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
class FlagViewSet(HubModelViewSet):
    api_scope = "flags"
    read_permission = "flags.view"
    write_permission = "flags.edit"
    serializer_class = FlagSerializer
    ordering_fields = ["id"]

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
        origin = request._request.headers.get("Origin", "")
        project_key = request.auth.entry if isinstance(request.auth, ProjectKeyCredential) else None
        if origin and project_key is not None and not project_key.allows_origin(origin):
            return problem_response(403, f"This project key does not allow calls from {origin}.", "origin_not_allowed")
        body = EvaluateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        response = Response(evaluation(body.validated_data, schema=connection.schema_name))
        if origin and project_key is not None:
            cors(response, origin)
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


@extend_schema_view(
    list=extend_schema(summary="List experiments, newest first"),
    retrieve=extend_schema(summary="One experiment"),
    create=extend_schema(summary="Add an experiment (a draft) on a multivariate flag"),
    partial_update=extend_schema(summary="Change an experiment's name, metrics or power inputs"),
    destroy=extend_schema(summary="Delete an experiment (its flag and events stay)"),
)
class ExperimentViewSet(HubModelViewSet):
    api_scope = "flags"
    read_permission = "flags.view"
    write_permission = "flags.edit"
    serializer_class = ExperimentSerializer
    ordering_fields = ["id"]

    def get_queryset(self):
        return experiments.experiment_list().order_by("id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        flag = Flag.objects.filter(pk=data.pop("flag_id")).first()
        if flag is None:
            raise Unprocessable({"flag": ["No feature flag has this id."]})
        serializer.instance = experiments.experiment_create(
            tenant=self.request.tenant, actor=self.request.user, flag=flag, **data
        )

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        if changes.pop("flag_id", serializer.instance.flag_id) != serializer.instance.flag_id:
            raise Unprocessable({"flag": ["An experiment's flag cannot change: add another experiment."]})
        serializer.instance = experiments.experiment_update(
            tenant=self.request.tenant, actor=self.request.user, experiment=serializer.instance, **changes
        )

    def perform_destroy(self, instance):
        experiments.experiment_delete(tenant=self.request.tenant, actor=self.request.user, experiment=instance)

    def _acted(self, service, body=None):
        experiment = self.get_object()  # another tenant's id: 404 before the body is read
        kwargs = {}
        if body is not None:
            body.is_valid(raise_exception=True)
            kwargs = body.validated_data
        experiment = service(tenant=self.request.tenant, actor=self.request.user, experiment=experiment, **kwargs)
        return Response(ExperimentSerializer(experiment).data)

    @extend_schema(summary="Start counting exposures (draft → running)", request=None)
    @action(detail=True, methods=["post"])
    def start(self, request, *args, **kwargs):
        return self._acted(experiments.experiment_start)

    @extend_schema(summary="Stop the experiment (the flag keeps serving as it is)", request=None)
    @action(detail=True, methods=["post"])
    def stop(self, request, *args, **kwargs):
        return self._acted(experiments.experiment_stop)

    @extend_schema(
        summary="Ship a variant: the flag serves it to everyone; the experiment stops", request=ShipSerializer
    )
    @action(detail=True, methods=["post"])
    def ship(self, request, *args, **kwargs):
        return self._acted(experiments.experiment_ship, body=ShipSerializer(data=request.data))

    @extend_schema(
        summary="The results so far",
        description=(
            "Per metric and variant: exposed persons, the rate or mean with a 95 % credible interval, "
            "probability of being best, uplift against control with its interval, the always-valid "
            "(mSPRT) p-value and the fixed-horizon one; the exposures against the target and the "
            "sample-ratio check."
        ),
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"])
    def results(self, request, *args, **kwargs):
        return Response(experiments.experiment_results(experiment=self.get_object()))


@extend_schema_view(
    list=extend_schema(summary="The property names declared for flag rules"),
    retrieve=extend_schema(summary="One declared property"),
    create=extend_schema(summary="Declare a property your code sends (rules may then name it)"),
    destroy=extend_schema(summary="Forget a declared property (rules naming it stay)"),
)
class DeclaredPropertyViewSet(HubModelViewSet):
    api_scope = "flags"
    read_permission = "flags.view"
    write_permission = "flags.edit"
    serializer_class = DeclaredPropertySerializer
    ordering_fields = ["id"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        return DeclaredProperty.objects.order_by("id")

    def perform_create(self, serializer):
        serializer.instance = services.property_declare(
            tenant=self.request.tenant, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.property_forget(tenant=self.request.tenant, actor=self.request.user, declared=instance)
