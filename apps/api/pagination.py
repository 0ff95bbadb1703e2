import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class HubCursorPagination(CursorPagination):
    """Opaque cursors (`?cursor=`), stable under inserts; `?page_size=` from 1 to 100.

    Strict: a page size or cursor that is not valid is a 400 naming the parameter, never
    silently replaced by the default."""

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

    def decode_cursor(self, request):
        if len(request.query_params.getlist(self.cursor_query_param)) > 1:
            raise ValidationError({"cursor": ["Give one cursor."]})
        try:
            return super().decode_cursor(request)
        except Exception as exc:  # NotFound from DRF, or a crafted value that breaks decoding
            raise ValidationError({"cursor": [self.invalid_cursor_message]}) from exc

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return params
