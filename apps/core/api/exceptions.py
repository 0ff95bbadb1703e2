"""Every error of the API as an RFC 9457 `application/problem+json` document (built by
apps.core.http.problem_body: the title is the reason phrase, the detail the specifics).

400 Bad Request: the request does not match the OpenAPI document (a field's type, format, length
or choice; a parameter; malformed JSON). `errors` names each field:

{"type": "about:blank", "title": "Bad Request", "status": 400,
 "detail": "Check the fields named in errors: email.", "code": "invalid",
 "errors": [{"field": "email", "message": "Enter a valid email address.", "code": "invalid"}]}

422 Unprocessable Content: the request matches the document, but a rule the document cannot
express refused it (a time in the past, the last owner, someone already a member, a reused
Idempotency-Key); the same `errors` when fields are at fault.

402 Payment Required: a limit of the organisation's plan (apps.core.limits) refused it; the type
is PROBLEM_TYPE and the document names the quantity, the limit, the usage and the plan:

{"type": "https://reactdjango-hub.dev/problems/plan-limit", "title": "Payment Required", "status": 402,
 "detail": "You have 10 members; the Team plan allows 10. Upgrade the plan to add more.",
 "code": "plan_limit", "quantity": "seats", "limit": 10, "used": 10, "plan": "Team",
 "upgrade_url": "/billing/", "errors": [{"field": "seats", "message": "…", "code": "plan_limit"}]}
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.core.http import PROBLEM, problem_body
from apps.core.limits import PROBLEM_TYPE, LimitReached


class Unprocessable(exceptions.ValidationError):
    """A well-formed request refused by a rule (raised with field errors like ValidationError)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request breaks a rule."
    default_code = "invalid"  # of each error in `errors`; the problem's own code is "unprocessable"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource has changed since you read it (If-Match)."
    default_code = "precondition_failed"


class Throttled(exceptions.Throttled):
    default_detail = "Rate limit exceeded for this key."


class Replay(Exception):
    """Raised before the view runs to answer with a response made earlier (an Idempotency-Key's
    first response): the base view returns it as it is."""

    def __init__(self, response):
        self.response = response


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


def problem_response(status_code: int, detail: str, code: str = "", headers=None, **extra) -> Response:
    return Response(
        problem_body(status_code, detail, code, **extra), status=status_code, headers=headers, content_type=PROBLEM
    )


def limit_problem(exc: LimitReached) -> Response:
    """The 402 answer to a plan limit (see the module's docstring)."""
    body = problem_body(
        402, exc.message, "plan_limit", quantity=exc.quantity, limit=exc.limit, used=exc.used, plan=exc.plan,
        upgrade_url=exc.upgrade_url, errors=[{"field": exc.quantity, "message": exc.message, "code": "plan_limit"}],
    )  # fmt: skip
    body["type"] = PROBLEM_TYPE
    return Response(body, status=402, content_type=PROBLEM)


def problem_exception_handler(exc, context):
    if isinstance(exc, LimitReached):
        set_rollback()
        return limit_problem(exc)
    if isinstance(exc, DjangoValidationError):
        # Raised by a service: a business rule, checked once the request was found well formed.
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = Unprocessable(detail)
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
        fields = sorted({e["field"] for e in errors} - {"non_field_errors"})
        if fields:
            detail = f"Check the fields named in errors: {', '.join(fields)}."
        else:
            detail = " ".join(e["message"] for e in errors)
        code = "invalid" if exc.status_code == 400 else "unprocessable"
        return problem_response(exc.status_code, detail, code, headers=headers, errors=errors)
    detail = exc.detail
    if isinstance(detail, list | dict):
        detail = " ".join(m for _, m, _ in _flatten(detail))
    return problem_response(exc.status_code, str(detail), getattr(detail, "code", "") or exc.default_code, headers)
