"""Under /api/ nothing answers with an HTML page: whatever error response comes out of the stack
(the tenant router's, Django's 404/500, a CSRF failure, a bug) leaves as problem+json, and so
does a redirect to a page outside /api/ (e.g. a session sent to finish its second factor) — unless the
view marked it as the answer itself (`response.api_redirect = True`: a download sent to a presigned
URL of the object store)."""

import json
from urllib.parse import urlsplit

from django.http import HttpResponse

from apps.core.http import PROBLEM, problem_body

KEEP_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class ProblemJsonMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code in (301, 302, 303, 307, 308)
            and "Location" in response
            and is_api(request.path_info)
            and not getattr(response, "api_redirect", False)
        ):
            target = urlsplit(response.get("Location", "")).path
            if not is_api(target):
                body = problem_body(
                    403, "This session must complete a step on the dashboard first (see its Location).", "redirected"
                )
                replacement = HttpResponse(json.dumps(body), status=403, content_type=PROBLEM)
                replacement["Location"] = response["Location"]
                return replacement
        if (
            response.status_code >= 400
            and is_api(request.path_info)
            and not response.get("Content-Type", "").startswith(PROBLEM)
        ):
            status = response.status_code
            replacement = HttpResponse(
                json.dumps(problem_body(status)),
                status=status,
                content_type=PROBLEM,
            )
            for name in KEEP_HEADERS:
                if name in response:
                    replacement[name] = response[name]
            for cookie in response.cookies.values():
                replacement.cookies[cookie.key] = cookie
            return replacement
        return response
