"""/api/v1/analytics/: capture (with a project key) and the project keys (admins).

Capture is also served at the tenant host's /capture/, /batch/, /e/ and /i/v0/e/ (PostHog's
paths, urls.py). It authenticates with the project key found in the body, the query or the
Authorization header, so it has no session, CSRF check or API-key rate limit; a browser may call
it from the key's allowed origins (CORS)."""

from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.core.api.exceptions import limit_problem, problem_response
from apps.core.api.views import HubAPIView, HubGenericViewSet, mixins
from apps.core.limits import LimitReached, limit_check

from .. import capture, keys, selectors, services
from .serializers import (
    CohortMembersChangedSerializer,
    CohortMembersSerializer,
    CohortMembersUploadSerializer,
    CohortSerializer,
    CohortUpdateSerializer,
    DashboardSerializer,
    DashboardTileCreateSerializer,
    DashboardTileSerializer,
    DashboardTileUpdateSerializer,
    DashboardUpdateSerializer,
    InsightSerializer,
    InsightUpdateSerializer,
    LayoutAnswerSerializer,
    LayoutSerializer,
    PersonSerializer,
    ProjectKeyCreatedSerializer,
    ProjectKeySerializer,
    QueryAnswerSerializer,
    QueryRequestSerializer,
    ShareLinkSerializer,
    ShareSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List project keys"),
    retrieve=extend_schema(summary="One project key"),
    create=extend_schema(summary="Create a project key", responses={201: ProjectKeyCreatedSerializer}),
    revoke=extend_schema(summary="Revoke a project key (its events are refused from then on)", request=None),
)
class ProjectKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, HubGenericViewSet):
    api_scope = "analytics"
    read_permission = "analytics.keys.manage"
    write_permission = "analytics.keys.manage"
    serializer_class = ProjectKeySerializer
    ordering_fields = ["id", "created", "name"]
    ordering = ["-id"]

    def get_queryset(self):
        return selectors.project_key_list()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, raw = services.project_key_create(
            tenant=request.tenant,
            actor=request.membership,
            name=serializer.validated_data["name"],
            allowed_origins=serializer.validated_data.get("allowed_origins", []),
        )
        key.key = raw
        headers = {"Location": f"{request.path.rstrip('/')}/{key.pk}/", "Cache-Control": "no-store"}
        return Response(ProjectKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED, headers=headers)

    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        key = services.project_key_revoke(tenant=request.tenant, actor=request.membership, key=self.get_object())
        return Response(ProjectKeySerializer(key).data)


class QueryView(HubAPIView):
    """Runs a query JSON (viewers and up); POST only for its body, it changes nothing."""

    api_scope = "analytics"
    read_permission = "analytics.insights.view"
    write_permission = "analytics.insights.view"
    post_reads = True

    @extend_schema(
        summary="Run an analytics query (trends, funnel, retention)",
        request=QueryRequestSerializer,
        responses=QueryAnswerSerializer,
    )
    def post(self, request, *args, **kwargs):
        payload = QueryRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return Response(selectors.query_answer(tenant=request.tenant, data=payload.validated_data["query"]))


class _BuiltViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    """What members build and viewers read (insights, cohorts): thin, each write a service call
    (`_create`, `_update`, `_delete`); PATCH takes `update_serializer_class`."""

    api_scope = "analytics"
    ordering_fields = ["id", "created", "name"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    update_serializer_class = None

    def _actor(self) -> dict:
        return {"tenant": self.request.tenant, "actor": self.request.membership}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = self._create(serializer.validated_data)
        headers = {"Location": f"{request.path.rstrip('/')}/{made.pk}/"}
        return Response(self.serializer_class(made).data, status=status.HTTP_201_CREATED, headers=headers)

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()
        payload = self.update_serializer_class(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        self.check_precondition(instance)
        return Response(self.serializer_class(self._update(instance, payload.validated_data)).data)

    def perform_destroy(self, instance):
        self.check_precondition(instance)
        self._delete(instance)


@extend_schema_view(
    list=extend_schema(summary="List saved insights"),
    retrieve=extend_schema(summary="One saved insight"),
    create=extend_schema(summary="Save an insight (its query is checked)"),
    partial_update=extend_schema(
        summary="Change an insight's name, description or query", request=InsightUpdateSerializer
    ),
    destroy=extend_schema(summary="Delete an insight"),
    result=extend_schema(summary="Run a saved insight's query", responses=QueryAnswerSerializer),
)
class InsightViewSet(_BuiltViewSet):
    read_permission = "analytics.insights.view"
    write_permission = "analytics.insights.build"
    serializer_class = InsightSerializer
    update_serializer_class = InsightUpdateSerializer

    def get_queryset(self):
        return selectors.insight_list()

    def _create(self, data):
        return services.insight_create(
            **self._actor(), name=data["name"], query=data["query"], description=data.get("description", "")
        )

    def _update(self, insight, data):
        return services.insight_update(
            **self._actor(),
            insight=insight,
            name=data.get("name"),
            query=data.get("query"),
            description=data.get("description"),
        )

    def _delete(self, insight):
        services.insight_delete(**self._actor(), insight=insight)

    @action(detail=True, methods=["get"])
    def result(self, request, *args, **kwargs):
        insight = self.get_object()
        return Response(selectors.query_answer(tenant=request.tenant, data=insight.query))


@extend_schema_view(
    list=extend_schema(summary="List cohorts"),
    retrieve=extend_schema(summary="One cohort"),
    create=extend_schema(summary="Create a cohort (static, or by rules)"),
    partial_update=extend_schema(
        summary="Change a cohort's name, description or rules", request=CohortUpdateSerializer
    ),
    destroy=extend_schema(summary="Delete a cohort (refused while a saved insight filters on it)"),
    members=extend_schema(summary="The persons in a cohort now", responses=PersonSerializer(many=True)),
    members_add=extend_schema(
        summary="List distinct ids in a static cohort",
        request=CohortMembersSerializer,
        responses=CohortMembersChangedSerializer,
    ),
    members_remove=extend_schema(
        summary="Take persons (every distinct id of theirs) out of a static cohort",
        request=CohortMembersSerializer,
        responses=CohortMembersChangedSerializer,
    ),
    members_upload=extend_schema(
        summary="List the distinct ids of a CSV file in a static cohort",
        request={"multipart/form-data": CohortMembersUploadSerializer},
        responses=CohortMembersChangedSerializer,
    ),
)
class CohortViewSet(_BuiltViewSet):
    """Cohorts: viewers see them and their persons; members build them."""

    read_permission = "analytics.cohorts.view"
    write_permission = "analytics.cohorts.build"
    serializer_class = CohortSerializer
    update_serializer_class = CohortUpdateSerializer

    def get_queryset(self):
        return selectors.cohort_list()

    def _create(self, data):
        return services.cohort_create(
            **self._actor(),
            name=data["name"],
            description=data.get("description", ""),
            kind=data["kind"],
            filters=data.get("filters"),
            behaviours=data.get("behaviours"),
        )

    def _update(self, cohort, data):
        return services.cohort_update(
            **self._actor(),
            cohort=cohort,
            name=data.get("name"),
            description=data.get("description"),
            filters=data.get("filters"),
            behaviours=data.get("behaviours"),
        )

    def _delete(self, cohort):
        services.cohort_delete(**self._actor(), cohort=cohort)

    # Persons in the cohort's order of ids (newest first): no ?ordering= of the cohorts' fields.
    @action(detail=True, methods=["get"], filter_backends=[])
    def members(self, request, *args, **kwargs):
        persons = selectors.cohort_persons(cohort=self.get_object()).order_by("-id")
        page = self.paginate_queryset(persons)
        return self.get_paginated_response(PersonSerializer(page, many=True).data)

    def _changed(self, count: int):
        return Response({"changed": count})

    @action(detail=True, methods=["post"], url_path="members/add")
    def members_add(self, request, *args, **kwargs):
        cohort = self.get_object()  # another tenant's id: a 404 before the body is read
        payload = CohortMembersSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = payload.validated_data["distinct_ids"]
        return self._changed(services.cohort_members_add(**self._actor(), cohort=cohort, distinct_ids=ids))

    @action(detail=True, methods=["post"], url_path="members/remove")
    def members_remove(self, request, *args, **kwargs):
        cohort = self.get_object()  # another tenant's id: a 404 before the body is read
        payload = CohortMembersSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = payload.validated_data["distinct_ids"]
        return self._changed(services.cohort_members_remove(**self._actor(), cohort=cohort, distinct_ids=ids))

    @action(detail=True, methods=["post"], url_path="members/upload", parser_classes=[MultiPartParser])
    def members_upload(self, request, *args, **kwargs):
        cohort = self.get_object()
        payload = CohortMembersUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        content = payload.validated_data["file"].read(services.MAX_UPLOAD_BYTES + 1)
        return self._changed(services.cohort_members_upload(**self._actor(), cohort=cohort, content=content))


def _problem(status_code: int, detail: str, code: str, errors=None):
    extra = {"errors": errors} if errors is not None else {}
    return problem_response(status_code, detail, code, **extra)


def _refused_request(exc: capture.CaptureError):
    """A request refused as a whole, naming the field at fault."""
    errors = [{"field": exc.field, "message": exc.detail, "code": exc.code}] if exc.field else None
    return _problem(exc.status, exc.detail, exc.code, errors)


def _nothing_accepted(payload: capture.Payload, refused: list):
    """Every event refused: a 400 naming each (`batch.<index>.<field>` in a batch)."""
    errors = []
    for r in refused:
        field = ".".join(p for p in ("batch", str(r["index"]), r["field"]) if p) if payload.batch else r["field"]
        errors.append({"field": field, "message": r["message"], "code": r["code"], "index": r["index"]})
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return _problem(400, f"No event was accepted. Check the fields named in errors: {fields}.", "invalid", errors)


@extend_schema(exclude=True)  # its own key, no rate limit or Idempotency-Key: see docs/apps/analytics.md
class CaptureView(HubAPIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()

    def options(self, request, *args, **kwargs):
        """A CORS preflight: allowed when an active key of the tenant allows the origin."""
        response = Response(status=204)
        origin = request._request.headers.get("Origin", "")
        if origin and keys.origin_allowed(connection.schema_name, origin):
            self._cors(response, origin)
            response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Content-Type, Content-Encoding, Authorization"
            response["Access-Control-Max-Age"] = "600"
        return response

    @staticmethod
    def _cors(response, origin: str) -> None:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"

    def post(self, request, *args, **kwargs):
        http = request._request
        try:
            payload = capture.payload_read(
                capture.body_read(http, http.META.get("CONTENT_LENGTH")),
                content_type=http.META.get("CONTENT_TYPE", ""),
                content_encoding=http.META.get("HTTP_CONTENT_ENCODING", ""),
                query=http.GET.dict(),
                authorization=http.META.get("HTTP_AUTHORIZATION", ""),
            )
        except capture.CaptureError as exc:
            return _refused_request(exc)
        schema = connection.schema_name
        key = keys.key_find(schema, payload.api_key) if payload.api_key else None
        if key is None:
            return _problem(
                401,
                "No valid project key: send this organisation's key as api_key (or token) in the body.",
                "not_authenticated",
                [{"field": "api_key", "message": "Unknown or revoked project key.", "code": "invalid"}],
            )
        origin = http.headers.get("Origin", "")
        if origin and not key.allows_origin(origin):
            return _problem(403, f"This project key does not allow sending from {origin}.", "origin_not_allowed")
        try:
            # The plan's events a month: an allowance kept in the process, no query per event.
            limit_check(tenant=http.tenant, quantity="analytics_events", adding=len(payload.events))
        except LimitReached as exc:
            response = limit_problem(exc)
            if origin:
                self._cors(response, origin)
            return response
        try:
            checked = services.events_capture(schema=schema, payload=payload)
        except capture.CaptureError as exc:  # a bad sent_at
            return _refused_request(exc)
        except services.QueueUnavailable as exc:
            return problem_response(503, str(exc), "unavailable", headers={"Retry-After": "30"})
        if checked.rows:
            response = Response({"status": 1, "accepted": len(checked.rows), "refused": checked.refused})
        else:
            response = _nothing_accepted(payload, checked.refused)
        if origin:
            self._cors(response, origin)
        return response


def _share_answer(request, dashboard) -> Response:
    token = selectors.share_token(dashboard=dashboard)
    url = request.build_absolute_uri(reverse("analytics:dashboard_shared", args=[token])) if token else ""
    return Response(ShareLinkSerializer({"shared": bool(token), "url": url}).data)


@extend_schema_view(
    list=extend_schema(summary="List dashboards"),
    retrieve=extend_schema(summary="One dashboard, with its tiles"),
    create=extend_schema(summary="Create a dashboard"),
    partial_update=extend_schema(
        summary="Change a dashboard's name, description, date range or filters", request=DashboardUpdateSerializer
    ),
    destroy=extend_schema(summary="Delete a dashboard (its insights are kept)"),
    tiles=extend_schema(
        summary="Add a saved insight to the dashboard (placed in the first free spot)",
        request=DashboardTileCreateSerializer,
        responses={201: DashboardTileSerializer},
    ),
    tile=extend_schema(
        summary="Rename or remove a tile",
        parameters=[OpenApiParameter("tile_id", int, OpenApiParameter.PATH, description="The tile's id.")],
        request=DashboardTileUpdateSerializer,
        responses={200: DashboardTileSerializer, 204: None},
    ),
    layout=extend_schema(
        summary="Place the tiles (x, y, w, h on a 12-column grid)",
        request=LayoutSerializer,
        responses=LayoutAnswerSerializer,
    ),
    share=extend_schema(
        summary="Turn the read-only link on, or give it a new secret",
        request=ShareSerializer,
        responses=ShareLinkSerializer,
    ),
    unshare=extend_schema(summary="Turn the read-only link off", request=None, responses=ShareLinkSerializer),
)
class DashboardViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    api_scope = "analytics"
    read_permission = "analytics.dashboards.view"
    write_permission = "analytics.dashboards.build"
    serializer_class = DashboardSerializer
    ordering_fields = ["id", "created", "name"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.dashboard_list().prefetch_related("tiles__insight")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        dashboard = services.dashboard_create(
            tenant=request.tenant,
            actor=request.membership,
            name=data["name"],
            description=data.get("description", ""),
            date_range=data.get("date_range", "30d"),
            filters=data.get("filters", []),
        )
        headers = {"Location": f"{request.path.rstrip('/')}/{dashboard.pk}/"}
        return Response(DashboardSerializer(dashboard).data, status=status.HTTP_201_CREATED, headers=headers)

    def partial_update(self, request, *args, **kwargs):
        dashboard = self.get_object()
        payload = DashboardUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        self.check_precondition(dashboard)
        data = payload.validated_data
        dashboard = services.dashboard_update(
            tenant=request.tenant,
            actor=request.membership,
            dashboard=dashboard,
            name=data.get("name"),
            description=data.get("description"),
            date_range=data.get("date_range"),
            filters=data.get("filters"),
        )
        return Response(DashboardSerializer(dashboard).data)

    def perform_destroy(self, instance):
        self.check_precondition(instance)
        services.dashboard_delete(tenant=self.request.tenant, actor=self.request.membership, dashboard=instance)

    @action(detail=True, methods=["post"])
    def tiles(self, request, *args, **kwargs):
        dashboard = self.get_object()
        payload = DashboardTileCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        insight = selectors.insight_list().filter(pk=data["insight"]).first()
        if insight is None:  # another organisation's insight is simply unknown here
            raise ValidationError({"insight": ["No saved insight of this organisation has this id."]})
        tile = services.tile_add(
            tenant=request.tenant,
            actor=request.membership,
            dashboard=dashboard,
            insight=insight,
            title=data.get("title", ""),
            w=data.get("w", 6),
            h=data.get("h", 3),
        )
        return Response(DashboardTileSerializer(tile).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["patch", "delete"], url_path=r"tiles/(?P<tile_id>[^/.]+)")
    def tile(self, request, *args, tile_id=None, **kwargs):
        dashboard = self.get_object()
        if not (tile_id.isdigit() and len(tile_id) < 19):
            raise Http404
        tile = get_object_or_404(dashboard.tiles.select_related("insight"), pk=int(tile_id))
        if request.method == "DELETE":
            services.tile_remove(tenant=request.tenant, actor=request.membership, tile=tile)
            return Response(status=status.HTTP_204_NO_CONTENT)
        payload = DashboardTileUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if "title" in payload.validated_data:
            tile = services.tile_update(
                tenant=request.tenant, actor=request.membership, tile=tile, title=payload.validated_data["title"]
            )
        return Response(DashboardTileSerializer(tile).data)

    @action(detail=True, methods=["post"])
    def layout(self, request, *args, **kwargs):
        dashboard = self.get_object()
        payload = LayoutSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        tiles = services.dashboard_layout_save(
            tenant=request.tenant,
            actor=request.membership,
            dashboard=dashboard,
            layout=[dict(item) for item in payload.validated_data["layout"]],
        )
        return Response(LayoutAnswerSerializer({"tiles": tiles}).data)

    @action(detail=True, methods=["post"])
    def share(self, request, *args, **kwargs):
        dashboard = self.get_object()
        payload = ShareSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.dashboard_share(
            tenant=request.tenant,
            actor=request.membership,
            dashboard=dashboard,
            rotate=payload.validated_data["rotate"],
        )
        dashboard.refresh_from_db()
        return _share_answer(request, dashboard)

    @action(detail=True, methods=["post"])
    def unshare(self, request, *args, **kwargs):
        dashboard = services.dashboard_unshare(
            tenant=request.tenant, actor=request.membership, dashboard=self.get_object()
        )
        return _share_answer(request, dashboard)
