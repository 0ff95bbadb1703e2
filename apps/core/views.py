"""Error pages for both sites. Under /api/ they answer in problem+json, never HTML."""

from django.shortcuts import render

from .http import problem, wants_problem_json


def not_found(request, exception=None):
    if wants_problem_json(request):
        return problem(404)
    return render(request, "404.html", status=404)


def forbidden(request, exception=None):
    if wants_problem_json(request):
        return problem(403)
    return render(request, "403.html", status=403)


def server_error(request):
    if wants_problem_json(request):
        return problem(500)
    return render(request, "500.html", status=500)
