"""/api/v1/integrations/: connections (secrets write-only, never returned) with their test, the
connectors' catalogue, and imported OpenAPI documents."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.serializers import CatalogueQuerySerializer, valid
from apps.core.api.views import HubAPIView, HubGenericViewSet, mixins

from .. import selectors, services
from .serializers import ApiSpecSerializer, ConnectionSerializer, ConnectionTestSerializer, ConnectorSerializer


@extend_schema_view(
    list=extend_schema(summary="List connections by name"),
    retrieve=extend_schema(summary="One connection (never its secrets)"),
    create=extend_schema(summary="Add a connection"),
    partial_update=extend_schema(summary="Change a connection (secrets left out are kept)"),
    destroy=extend_schema(summary="Delete a connection and its credential"),
)
class ConnectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    api_scope = "integrations"
    read_permission = "integrations.view"
    write_permission = "integrations.edit"
    serializer_class = ConnectionSerializer
    ordering_fields = ["id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.connection_list().order_by("id")

    def perform_create(self, serializer):
        serializer.instance = services.connection_create(
            tenant=self.request.tenant, actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.connection_update(
            tenant=self.request.tenant,
            actor=self.request.user,
            connection=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.connection_delete(tenant=self.request.tenant, actor=self.request.user, connection=instance)

    @extend_schema(summary="Test the connection now", request=None, responses=ConnectionTestSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, *args, **kwargs):
        connection = self.get_object()
        ok, reason = services.connection_test(tenant=request.tenant, actor=request.user, connection=connection)
        return Response({"ok": ok, "status": connection.status, "reason": reason})


@extend_schema_view(
    list=extend_schema(summary="List imported APIs"),
    retrieve=extend_schema(summary="One imported API with its operations"),
    create=extend_schema(summary="Import an OpenAPI 3 document (its text or its address)"),
    destroy=extend_schema(summary="Delete an imported API"),
)
class ApiSpecViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    api_scope = "integrations"
    read_permission = "integrations.view"
    write_permission = "integrations.edit"
    serializer_class = ApiSpecSerializer
    ordering_fields = ["id"]

    def get_queryset(self):
        return selectors.spec_list().order_by("id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.spec_import(
            tenant=self.request.tenant,
            actor=self.request.user,
            document=data.get("document", ""),
            url=data.get("url", ""),
            key=data.get("key", ""),
        )

    def perform_destroy(self, instance):
        services.spec_delete(tenant=self.request.tenant, actor=self.request.user, spec=instance)


class ConnectorListView(HubAPIView):
    """GET /api/v1/integrations/connectors/: the ready connectors and their actions (each action's
    JSON Schemas with `?expand=schemas` or `?key=<connector>`)."""

    api_scope = "integrations"
    read_permission = "integrations.view"

    @extend_schema(
        summary="The ready connectors and their actions",
        parameters=[CatalogueQuerySerializer],
        responses=ConnectorSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        query = valid(CatalogueQuerySerializer, request.query_params)
        key = query.get("key")
        return Response(selectors.connector_catalogue(key=key, schemas=bool(key) or "expand" in query))
