from django.http import JsonResponse


def problem(status: int, title: str, detail: str = "", **extra) -> JsonResponse:
    """An RFC 9457 `application/problem+json` response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JsonResponse(body, status=status, content_type="application/problem+json")


def wants_problem_json(request) -> bool:
    return request.path.startswith("/api/")
