"""Serializer bases for every app's endpoints: strings must be JSON strings (DRF would turn
`{"name": 0}` into "0", which the OpenAPI schema says is invalid)."""

from datetime import UTC, datetime

from django.db import models
from rest_framework import serializers


def valid(serializer_class, data, *, partial: bool = False) -> dict:
    """`data` validated by `serializer_class` (a 400 problem naming the fields otherwise)."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StrictStringMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    pass


def to_utc(moment: datetime) -> datetime:
    """`moment` in UTC (PostgreSQL refuses offsets past ±15:59); a naive one is taken as UTC. A
    valid date-time that falls outside Python's range once in UTC (0001-01-01T00:30+01:00,
    9999-12-31T23:00-02:00) becomes the first or last representable moment."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if moment.year == 1 else datetime.max
        return edge.replace(tzinfo=UTC)


class UtcDateTimeField(serializers.DateTimeField):
    """Normalised to UTC (see to_utc)."""

    def enforce_timezone(self, value):
        return to_utc(value)


class HubModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.DateTimeField: UtcDateTimeField,
    }
