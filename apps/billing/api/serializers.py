from rest_framework import serializers

from ..models import Quantity, UsageRecord


class UsageRecordSerializer(serializers.ModelSerializer):
    quantity = serializers.ChoiceField(choices=Quantity.choices, help_text="What was used.")
    amount = serializers.IntegerField(
        help_text="Runs started, calls made or events captured that day; for seats and storage_bytes, the "
        "level at the day's last collection."
    )

    class Meta:
        model = UsageRecord
        fields = ["id", "day", "quantity", "amount", "collected_at"]


class PriceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    monthly = serializers.DecimalField(max_digits=10, decimal_places=2)
    per_seat = serializers.DecimalField(max_digits=10, decimal_places=2)
    created = serializers.DateTimeField()


class QuantityUsageSerializer(serializers.Serializer):
    quantity = serializers.ChoiceField(choices=Quantity.choices)
    label = serializers.CharField()
    used = serializers.IntegerField(help_text="This month (UTC) for monthly quantities; now for seats and storage.")
    limit = serializers.IntegerField(allow_null=True, help_text="The plan's limit; null: unlimited.")
    monthly = serializers.BooleanField()
    percent = serializers.IntegerField()


class PlanSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The plan's key (as Tenant.plan).")
    name = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    price = PriceSerializer(allow_null=True, help_text="The price this organisation pays (kept after price changes).")
    started = serializers.DateTimeField(allow_null=True)
    seats = serializers.IntegerField(allow_null=True, help_text="The seats the subscription counts.")
    usage = QuantityUsageSerializer(many=True)
