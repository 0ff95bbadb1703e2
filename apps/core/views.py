"""Error pages for both sites. Under /api/ they answer in problem+json, never HTML."""

import sys

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from .db import waited_for_pool
from .http import problem, wants_problem_json

BUSY_RETRY_AFTER_SECONDS = 1


def not_found(request, exception=None):
    if wants_problem_json(request):
        return problem(404)
    return render(request, "404.html", status=404)


def forbidden(request, exception=None):
    if wants_problem_json(request):
        return problem(403)
    return render(request, "403.html", status=403)


def server_error(request):
    # Django calls this while handling the exception, so sys.exc_info() is the request's error.
    if waited_for_pool(sys.exc_info()[1]):
        return busy(request)
    if wants_problem_json(request):
        return problem(500)
    return render(request, "500.html", status=500)


def busy(request):
    """Every database connection of this process stayed taken for DATABASE_POOL_TIMEOUT seconds:
    a 503 worth retrying, made without the database (no context processors)."""
    if wants_problem_json(request):
        response = problem(503, "The service is busy. Try again in a moment.", "busy")
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response
