"""Serializer bases for every app's endpoints: strings must be JSON strings (DRF would turn
`{"name": 0}` into "0", which the OpenAPI schema says is invalid)."""

from datetime import UTC

from django.db import models
from rest_framework import serializers


class StrictStringMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    pass


class UtcDateTimeField(serializers.DateTimeField):
    """Normalised to UTC: PostgreSQL refuses offsets past ±15:59, and far dates can overflow."""

    default_error_messages = {"range": "This date-time is out of range."}

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("range")


class HubModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.DateTimeField: UtcDateTimeField,
    }
