from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer

from ..models import Greeting


class GreetingSerializer(HubModelSerializer):
    user_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Greeting
        fields = ["id", "user_id", "message", "created"]
        read_only_fields = fields
