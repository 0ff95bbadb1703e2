from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer

from ..models import AUTH_TYPES, ApiSpec, Connection


class ConnectionSerializer(HubModelSerializer):
    settings = serializers.DictField(
        required=False,
        help_text="What is not secret: username, token_url, client_id, scope, an API key's header name "
        "(name, location header|query, prefix), headers sent on every request, from (SMTP).",
    )
    secrets = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        write_only=True,
        help_text="Write-only, stored encrypted, never returned: api_key, password, token, client_secret, "
        "access_token, refresh_token, url (a secret webhook address). On a change, a secret left out is kept.",
    )
    auth_type = serializers.ChoiceField(choices=AUTH_TYPES)
    has_secrets = serializers.SerializerMethodField(help_text="The names of the secrets it holds (never their values).")

    class Meta:
        model = Connection
        fields = [
            "id",
            "name",
            "connector",
            "auth_type",
            "base_url",
            "settings",
            "secrets",
            "has_secrets",
            "token_expires_at",
            "status",
            "status_reason",
            "checked_at",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "token_expires_at", "status", "status_reason", "checked_at", "created", "updated"]
        extra_kwargs = {"name": {"validators": []}}  # the service says why a name is taken

    def get_has_secrets(self, obj) -> list[str]:
        import json

        return sorted(json.loads(obj.secrets or "{}"))


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    status = serializers.CharField()
    reason = serializers.CharField()


class ApiSpecSerializer(HubModelSerializer):
    document = serializers.CharField(
        required=False, write_only=True, help_text="The OpenAPI 3 document itself (JSON or YAML text)."
    )
    url = serializers.CharField(
        required=False, write_only=True, help_text="Or the address to fetch it from (through the SSRF guard)."
    )
    key = serializers.CharField(
        required=False, max_length=60, help_text="Its key in workflow nodes (default: from its title)."
    )
    operations = serializers.SerializerMethodField()

    class Meta:
        model = ApiSpec
        fields = [
            "id",
            "key",
            "title",
            "version",
            "source_url",
            "server_url",
            "operations",
            "document",
            "url",
            "created",
        ]
        read_only_fields = ["id", "title", "version", "source_url", "server_url", "created"]

    def get_operations(self, obj) -> list[dict]:
        return obj.operations


class ConnectorSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    auth_types = serializers.ListField(child=serializers.CharField())
    default_base_url = serializers.CharField()
    actions = serializers.ListField(child=serializers.DictField())
