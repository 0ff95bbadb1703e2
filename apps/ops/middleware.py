"""The first middleware: the probes and /metrics for any Host header, then every other request
measured and given its request id.

/healthz/live, /healthz/ready (JSON) and /metrics are answered here, before tenant routing and
before anything reads the Host header, so an orchestrator probing a pod by its IP address or pod
name reaches them while ALLOWED_HOSTS stays as narrow as it is for every other path. A browser
asking /healthz/ready for HTML goes on to the public site's staff page (apps.ops.views).
"""

import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from apps.core import metrics, tracing

from . import health, logs, scrape

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
logger = logging.getLogger("apps.ops.request")
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}  # any other: "other" (bounded labels)
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def wants_json(request) -> bool:
    if request.GET.get("format") == "json":
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    return "text/html" not in accept or "application/json" in accept


def readiness(request, *, details: bool = True) -> tuple[int, dict]:
    """The checks asked by `?check=` (repeated; all when absent), as (status, body); without
    `details`, the body leaves out the failures' messages (they may name internal addresses)."""
    names = request.GET.getlist("check")
    unknown = [name for name in names if name not in health.CHECKS]
    if unknown:
        return 400, {
            "status": "error",
            "error": f"Unknown check: {', '.join(unknown)}. Known: {', '.join(health.CHECKS)}.",
        }
    results = health.run_checks(names or None)
    ok = all(r.ok for r in results)
    checks = {r.name: r.as_dict(details=details) for r in results}
    body = {"status": "ok" if ok else "failing", "checks": checks}
    return (200 if ok else 503), body


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name or match.route) if match else "unmatched"


def describe_span(span, request, status: int) -> None:
    """A request's span named by its route (low cardinality: `GET notifications:list`), with its
    status and tenant; a 5xx marks it as an error. (Nothing for a request whose trace is sampled out.)"""
    if not span.is_recording():
        return
    route = route_of(request)
    span.update_name(f"{request.method} {route}")
    tenant = getattr(request, "tenant", None)
    span.set_attributes(
        {
            "http.request.method": request.method,
            "http.route": route,
            "http.response.status_code": status,
            "hub.tenant": tenant.schema_name if tenant is not None else "",
        }
    )
    if status >= 500:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR))


class OpsMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response
        self.networks = scrape.allowed_networks()
        self.measure = settings.HUB_METRICS_ENABLED

    def __call__(self, request):
        path = request.path_info
        if path == "/healthz/live":
            return JsonResponse({"status": "ok"})
        if path == "/healthz/ready" and wants_json(request):
            status, body = readiness(request, details=self.may_scrape(request))
            response = JsonResponse(body, status=status)
            response._has_been_logged = True  # a 503 is the probe's answer, not the server's error
            return response
        if path == "/metrics":
            return self.metrics(request)
        return self.handle(request)

    def handle(self, request):
        if tracing.enabled():
            with tracing.continuing(request.META.get("HTTP_TRACEPARENT", ""), request.method, kind="server") as span:
                response = self.answer(request, tracing.current_trace_id())
                describe_span(span, request, response.status_code)
                return response
        trace = TRACEPARENT.match(request.META.get("HTTP_TRACEPARENT", ""))
        return self.answer(request, trace.group(1) if trace else None)

    def answer(self, request, trace_id):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        logs.bind(request_id=request_id, trace_id=trace_id)
        token = logs.current_request.set(request)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            seconds = time.perf_counter() - started
            if self.measure:
                self.record(request, response.status_code, seconds)
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            return response
        finally:
            logs.current_request.reset(token)
            logs.unbind()

    @staticmethod
    def record(request, status: int, seconds: float) -> None:
        route = route_of(request)
        tenant = getattr(request, "tenant", None)
        plan = "none" if tenant is None else ("public" if tenant.is_public else tenant.plan)
        method = request.method if request.method in METHODS else "other"
        metrics.labelled(metrics.http_requests, route, method, str(status), plan).inc()
        metrics.labelled(metrics.http_request_duration, route, method, plan).observe(seconds)

    def metrics(self, request):
        if not self.measure or not self.may_scrape(request):
            return HttpResponse("Not found.\n", status=404, content_type="text/plain")
        return HttpResponse(scrape.exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")

    def may_scrape(self, request) -> bool:
        return scrape.may_scrape(request.META, self.networks)
