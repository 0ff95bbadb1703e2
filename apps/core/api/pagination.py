import re

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from .serializers import to_utc

# The form of a cursor: base64 (what encode_cursor makes), declared in the OpenAPI document.
CURSOR_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_CURSOR = re.compile(CURSOR_PATTERN)


class HubCursorPagination(CursorPagination):
    """Opaque cursors (`?cursor=`), stable under inserts; `?page_size=` from 1 to 100.

    Strict: a page size that is not valid, or a cursor not of the cursor's form (base64), is a 400
    naming the parameter, never silently replaced by the default. A cursor of that form that this
    list did not issue (it does not decode, or points at no position of its ordering) is a 404,
    like an id that does not exist."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"
    invalid_cursor_message = "This cursor is not valid: use the `next` or `previous` link of a page."

    def get_page_size(self, request):
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1 or not re.fullmatch(r"[0-9]{1,4}", values[0]) or not 1 <= int(values[0]) <= 100:
            raise ValidationError({"page_size": [f"Give one whole number from 1 to {self.max_page_size}."]})
        return int(values[0])

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        values = request.query_params.getlist(self.cursor_query_param)
        if len(values) > 1:
            raise ValidationError({"cursor": ["Give one cursor."]})
        if values and not _CURSOR.match(values[0]):
            raise ValidationError({"cursor": [self.invalid_cursor_message]})
        try:
            cursor = super().decode_cursor(request)
        except Exception as exc:  # NotFound from DRF, or a crafted value that breaks decoding
            raise NotFound(self.invalid_cursor_message) from exc
        if cursor is None or cursor.position is None:
            return cursor
        return cursor._replace(position=self._position(cursor.position))

    def _position(self, position: str):
        """The cursor's position as a value of the ordering's field (404 when it cannot be one),
        so that a crafted cursor never reaches the database as an invalid value."""
        try:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:
            field = None
        if "\x00" in position:
            raise NotFound(self.invalid_cursor_message)
        if field is None:
            return position
        try:
            value = field.to_python(position)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
        if value is None:
            raise NotFound(self.invalid_cursor_message)
        return to_utc(value) if isinstance(field, models.DateTimeField) else value

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            if param["name"] == self.cursor_query_param:
                param["schema"] = {"type": "string", "pattern": CURSOR_PATTERN}
                param["description"] = "The `next` or `previous` link of a page carries it."
        return params
