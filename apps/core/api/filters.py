"""Strict ordering: `?ordering=<field>` or `-<field>` from the view's `ordering_fields`; anything
else is a 400 (DRF's OrderingFilter would silently ignore it)."""

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination

from .serializers import to_utc


class StrictOrderingFilter(OrderingFilter):
    def _choices(self, view) -> list[str]:
        fields = list(getattr(view, "ordering_fields", None) or [])
        return [term for name in fields for term in (name, f"-{name}")]

    def filter_queryset(self, request, queryset, view):
        if isinstance(getattr(view, "paginator", None), CursorPagination):
            return queryset  # the cursor pagination orders by get_ordering() below itself
        return super().filter_queryset(request, queryset, view)

    def get_ordering(self, request, queryset, view):
        values = request.query_params.getlist(self.ordering_param)
        if not values:
            return self.get_default_ordering(view)
        if len(values) > 1 or values[0] not in self._choices(view):
            raise ValidationError({self.ordering_param: [f"Order by one of: {', '.join(self._choices(view))}."]})
        term = values[0]
        # A unique tie-breaker keeps cursor pagination stable on non-unique fields.
        return (term,) if term.lstrip("-") == "id" else (term, "-id" if term.startswith("-") else "id")

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by this field; a leading `-` sorts descending.",
                "schema": {"type": "string", "enum": self._choices(view)},
            }
        ]


class IdFilter(django_filters.NumberFilter):
    """An integer id that fits PostgreSQL's bigint (larger ones are a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, handed to the database in UTC (see to_utc)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        return None if parsed is None else to_utc(parsed)


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class HubFilterSet(django_filters.FilterSet):
    """A parameter given empty (`?until=`) is a 400 unless it is free text: the schema says a
    date, a number or a choice, and silently ignoring it would hide the caller's mistake."""

    def is_valid(self):
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if name in self.data and self.data.get(name) == "" and not isinstance(filter_, django_filters.CharFilter):
                if name in self.form.fields and name not in self.form.errors:
                    self.form.add_error(name, "Give a value or leave the parameter out.")
                valid = False
        return valid


class HubFilterBackend(DjangoFilterBackend):
    """django-filter on lists only (the document declares filters there, so one object is never
    refused for a filter parameter), and skipped when the request names none of the view's
    filters: building a FilterSet and its form costs more than the rest of a small list."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "detail", False):
            return queryset
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
