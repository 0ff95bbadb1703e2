"""/api/v1/tenant/: the organisation being served (read; rename by admins)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.core.api.views import HubGenericAPIView

from ..services import tenant_rename
from .serializers import TenantSerializer


class TenantView(HubGenericAPIView):
    api_scope = "tenancy"
    read_permission = "tenant.view"
    write_permission = "settings.change"
    serializer_class = TenantSerializer
    pagination_class = None
    filter_backends = []

    def get_object(self):
        return self.request.tenant

    @extend_schema(operation_id="tenant_retrieve", summary="The organisation")
    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(operation_id="tenant_update", summary="Rename the organisation")
    def patch(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        tenant = self.get_object()
        self.check_precondition(tenant)
        if "name" in serializer.validated_data:
            tenant = tenant_rename(tenant=tenant, name=serializer.validated_data["name"], actor=request.user)
        return Response(self.get_serializer(tenant).data)
