"""/api/v1/marketplace/plugins/: the organisation's plugins — list, one, enable, disable, change
settings, uninstall (scope `plugins`, role admin)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.views import HubGenericViewSet, mixins

from .. import selectors, services
from ..models import PluginInstall
from .serializers import PluginInstallSerializer, SettingsSerializer, UninstallSerializer


@extend_schema_view(
    list=extend_schema(summary="List the installed plugins and their state here"),
    retrieve=extend_schema(summary="One plugin: its state, what it asks for, its settings"),
)
class PluginViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HubGenericViewSet):
    api_scope = "plugins"
    read_permission = "marketplace.manage"
    write_permission = "marketplace.manage"
    serializer_class = PluginInstallSerializer
    lookup_field = "label"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    ordering_fields = ["label"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator, with no tenant
            return PluginInstall.objects.none()
        services.plugins_sync()
        return selectors.install_list()

    def _answer(self, install):
        return Response(PluginInstallSerializer(install).data)

    @extend_schema(summary="Enable the plugin (runs its migrations here)", request=None)
    @action(detail=True, methods=["post"])
    def enable(self, request, *args, **kwargs):
        install = self.get_object()
        return self._answer(services.plugin_enable(tenant=request.tenant, actor=request.user, label=install.label))

    @extend_schema(summary="Disable the plugin (its data is kept)", request=None)
    @action(detail=True, methods=["post"])
    def disable(self, request, *args, **kwargs):
        install = self.get_object()
        return self._answer(services.plugin_disable(tenant=request.tenant, actor=request.user, label=install.label))

    @extend_schema(summary="Change the plugin's settings", request=SettingsSerializer)
    @action(detail=True, methods=["put"], url_path="settings")
    def configure(self, request, *args, **kwargs):
        install = self.get_object()
        given = SettingsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        install = services.plugin_configure(
            tenant=request.tenant, actor=request.user, label=install.label, values=given.validated_data["values"]
        )
        return self._answer(install)

    @extend_schema(summary="Uninstall the plugin: archive or remove its data", request=UninstallSerializer)
    @action(detail=True, methods=["post"])
    def uninstall(self, request, *args, **kwargs):
        install = self.get_object()
        given = UninstallSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        install = services.plugin_uninstall(
            tenant=request.tenant, actor=request.user, label=install.label, **given.validated_data
        )
        return self._answer(install)
