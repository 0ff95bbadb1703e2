"""Every error of the API as an RFC 9457 `application/problem+json` document.

{"type": "about:blank", "title": "Invalid input", "status": 400,
 "detail": "Check the fields named in errors.", "code": "invalid",
 "errors": [{"field": "email", "message": "Enter a valid email address.", "code": "invalid"}]}
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

PROBLEM = "application/problem+json"

TITLES = {
    400: "Invalid input",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Server error",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource has changed since you read it (If-Match)."
    default_code = "precondition_failed"


def _flatten(detail, field=""):
    """[(field, message, code)] from DRF's nested error detail."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = f"{field}.{key}" if field else str(key)
            out.extend(_flatten(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for i, value in enumerate(detail):
            name = f"{field}.{i}" if isinstance(value, dict | list) and field else field
            out.extend(_flatten(value, name))
        return out
    return [(field or "non_field_errors", str(detail), getattr(detail, "code", None) or "invalid")]


def problem_body(status_code: int, detail: str, code: str = "", **extra) -> dict:
    body = {
        "type": "about:blank",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if code:
        body["code"] = code
    body.update(extra)
    return body


def problem_response(status_code: int, detail: str, code: str = "", headers=None, **extra) -> Response:
    return Response(
        problem_body(status_code, detail, code, **extra), status=status_code, headers=headers, content_type=PROBLEM
    )


def problem_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) and "matches the given query" not in str(exc) else None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's handler500 answers (in problem+json under /api/) and logs it

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()

    if isinstance(exc, exceptions.ValidationError):
        errors = [{"field": f, "message": m, "code": c} for f, m, c in _flatten(exc.detail)]
        fields = sorted({e["field"] for e in errors})
        return problem_response(
            400,
            f"Check the fields named in errors: {', '.join(fields)}.",
            "invalid",
            headers=headers,
            errors=errors,
        )
    detail = exc.detail
    if isinstance(detail, list | dict):
        detail = " ".join(m for _, m, _ in _flatten(detail))
    return problem_response(exc.status_code, str(detail), getattr(detail, "code", "") or exc.default_code, headers)
