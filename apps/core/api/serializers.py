"""Serializer bases for every app's endpoints: strings must be JSON strings (DRF would turn
`{"name": 0}` into "0", which the OpenAPI schema says is invalid)."""

from datetime import UTC, datetime

from django.db import models
from rest_framework import serializers

from .exceptions import Unprocessable


def valid(serializer_class, data, *, partial: bool = False) -> dict:
    """`data` validated by `serializer_class` (a 400 problem naming the fields otherwise)."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class CatalogueQuerySerializer(serializers.Serializer):
    """A catalogue's query: its items' JSON Schemas are left out unless `expand=schemas` (with
    hundreds of integration actions they weigh megabytes); `key` narrows it to one item."""

    expand = serializers.ChoiceField(
        choices=["schemas"], required=False, help_text="`schemas`: each item's JSON Schemas too"
    )
    key = serializers.CharField(required=False, max_length=200, help_text="Only this item (its schemas included)")

    def validate(self, attrs):
        # `?key=`: DRF reads an empty form value as absent; it is a value that is not allowed.
        empty = [name for name in self.fields if name in self.initial_data and name not in attrs]
        if empty:
            raise serializers.ValidationError({name: ["Give a value, or leave the parameter out."] for name in empty})
        return attrs


class StrictStringMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    pass


UNSTORABLE = "Remove the NUL characters and lone surrogates: PostgreSQL cannot store them."


def _unstorable(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)


def storable_json(value, field: str):
    """`value` unchanged, or a 422 naming `field` when PostgreSQL could not store it as jsonb: text,
    keys included, with a NUL character or a lone surrogate (what a \\ud800 escape decodes to).
    The OpenAPI document cannot express that rule, so it is checked where the value is used."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and _unstorable(item):
            raise Unprocessable({field: [UNSTORABLE]})
    return value


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
