"""RFC 9457 problem details: every `application/problem+json` answer of the platform is built by
`problem_body`, so they all follow one rule: the title is the status code's reason phrase (RFC
9110's, e.g. "Bad Request", "Not Found"), the detail says what went wrong in this case."""

from http import HTTPStatus

from django.http import JsonResponse

PROBLEM = "application/problem+json"

# RFC 9110 renamed a few of the phrases Python still carries from RFC 2616/4918.
_RFC9110_PHRASES = {
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
}

# What an answer says when nothing more specific is known (Django's own 404/403/500 pages, or an
# error response from a layer that does not speak problem+json).
GENERIC_DETAILS = {
    403: "You do not have permission to do this.",
    404: "There is nothing at this address.",
    500: "Something went wrong on our side. It has been logged.",
}


def reason_phrase(status: int) -> str:
    if status in _RFC9110_PHRASES:
        return _RFC9110_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Client Error" if 400 <= status < 500 else "Server Error"


def problem_body(status: int, detail: str = "", code: str = "", **extra) -> dict:
    """The problem document for `status`: type about:blank, the reason phrase as title, the detail
    (the generic one for the status when none is given), an optional machine-readable code and any
    extension members (e.g. `errors`)."""
    body = {
        "type": "about:blank",
        "title": reason_phrase(status),
        "status": status,
        "detail": detail or GENERIC_DETAILS.get(status) or f"The request failed ({reason_phrase(status)}).",
    }
    if code:
        body["code"] = code
    body.update(extra)
    return body


def problem(status: int, detail: str = "", code: str = "", **extra) -> JsonResponse:
    """An `application/problem+json` response (see problem_body)."""
    return JsonResponse(problem_body(status, detail, code, **extra), status=status, content_type=PROBLEM)


def wants_problem_json(request) -> bool:
    return request.path.startswith("/api/")
