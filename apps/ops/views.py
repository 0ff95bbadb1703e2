"""The operators' health page: /healthz/ready (or /healthz/) in a browser, on the public site, for
platform staff; a 404 for everybody else, as if it were not there."""

from django.http import Http404
from django.shortcuts import render

from .health import LABELS
from .middleware import readiness


def status_page(request):
    if not (request.user.is_authenticated and request.user.is_staff):
        raise Http404
    status, body = readiness(request)
    checks = [{"label": LABELS[name], **check} for name, check in body.get("checks", {}).items()]
    return render(request, "ops/status.html", {"ok": status == 200, "checks": checks, "body": body}, status=status)
