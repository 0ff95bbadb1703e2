from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer

from ..models import Checkin


class CheckinSerializer(HubModelSerializer):
    user_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Checkin
        fields = ["id", "user_id", "score", "note", "created"]
        read_only_fields = fields
