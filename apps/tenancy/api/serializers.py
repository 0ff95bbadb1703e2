from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer

from ..models import Tenant
from ..services import tenant_url


class TenantSerializer(HubModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["slug", "name", "plan", "status", "created", "url"]
        read_only_fields = ["slug", "plan", "status", "created", "url"]
        extra_kwargs = {"name": {"max_length": 100, "min_length": 1}}

    def get_url(self, tenant) -> str:
        return tenant_url(tenant)
