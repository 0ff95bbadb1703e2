import json

from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer
from apps.core.plugins import PLUGIN_PERMISSIONS

from ..models import PluginInstall
from ..selectors import plugin_get


class AsksForSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()


class PluginInstallSerializer(HubModelSerializer):
    name = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    asks_for = serializers.SerializerMethodField()
    config_schema = serializers.SerializerMethodField()
    secrets_set = serializers.SerializerMethodField(help_text="The secret settings that are set (never their values).")

    class Meta:
        model = PluginInstall
        fields = [
            "label",
            "name",
            "version",
            "description",
            "asks_for",
            "state",
            "reason",
            "config",
            "secrets_set",
            "config_schema",
            "changed",
        ]
        read_only_fields = fields

    def get_name(self, obj) -> str:
        return plugin_get(obj.label).name

    def get_version(self, obj) -> str:
        return plugin_get(obj.label).version

    def get_description(self, obj) -> str:
        return plugin_get(obj.label).description

    @staticmethod
    def _asks_for(obj) -> list[dict]:
        return [{"code": c, "description": PLUGIN_PERMISSIONS[c]} for c in plugin_get(obj.label).asks_for]

    def get_asks_for(self, obj) -> list[dict]:
        return self._asks_for(obj)

    def get_config_schema(self, obj) -> dict:
        return plugin_get(obj.label).config_schema

    def get_secrets_set(self, obj) -> list[str]:
        return sorted(json.loads(obj.secrets)) if obj.secrets else []


class SettingsSerializer(serializers.Serializer):
    values = serializers.DictField(help_text="The settings, checked against the plugin's config_schema.")


class UninstallSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=["archive", "remove"], default="archive")
    confirm = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="The plugin's name, to remove."
    )
