"""OpenTelemetry spans for every layer: requests, the outbox's dispatch, handlers, websocket pushes.

Off unless apps.ops installs a tracer (HUB_TRACING_ENABLED, or an OTLP endpoint in the
environment: docs/operations/observability.md). While off every helper here returns at its first
line (`_tracer is None`): no span, no context object, no header; that is the "zero cost".

A trace crosses processes as a W3C `traceparent` string: in a request's headers, in a Celery
task's headers (opentelemetry-instrumentation-celery), on an outbox row (apps.events), in a
message pushed to the dashboards' websockets (apps.core.realtime).
"""

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

_tracer = None  # an opentelemetry.trace.Tracer while tracing is on
_NONE = nullcontext()


def install(tracer) -> None:
    """Turns tracing on in this process (apps.ops.tracing.setup), or off with None."""
    global _tracer
    _tracer = tracer


def enabled() -> bool:
    return _tracer is not None


def span(name: str, *, kind: str = "internal", attributes: dict | None = None) -> AbstractContextManager:
    """A child span of the current one, current inside the block (nothing while tracing is off)."""
    if _tracer is None:
        return _NONE
    from opentelemetry.trace import SpanKind

    return _tracer.start_as_current_span(name, kind=SpanKind[kind.upper()], attributes=attributes)


def continuing(
    traceparent: str, name: str, *, kind: str = "consumer", attributes: dict | None = None, links=None
) -> AbstractContextManager:
    """A span continuing the trace `traceparent` names (a new trace when it is empty or malformed)."""
    if _tracer is None:
        return _NONE
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    parent = extract({"traceparent": traceparent}) if traceparent else None
    return _tracer.start_as_current_span(
        name, context=parent, kind=SpanKind[kind.upper()], attributes=attributes, links=links
    )


def link(traceparent: str):
    """A span link to the span `traceparent` names, or None."""
    if _tracer is None or not traceparent:
        return None
    from opentelemetry.propagate import extract
    from opentelemetry.trace import Link, get_current_span

    context = get_current_span(extract({"traceparent": traceparent})).get_span_context()
    return Link(context) if context.is_valid else None


def traceparent() -> str:
    """The current span as a W3C `traceparent` ("" when tracing is off or no span is current)."""
    if _tracer is None:
        return ""
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent", "")


def trace_id_of(value: str) -> str:
    """The trace id in a `traceparent` ("" when there is none)."""
    parts = value.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else ""


def current_trace_id() -> str | None:
    """The current span's trace id (32 hex digits), or None."""
    if _tracer is None:
        return None
    from opentelemetry.trace import get_current_span

    context = get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def in_current_context(func: Callable[..., Any]) -> Callable[..., Any]:
    """`func`, to run later (after commit) in the span current now; `func` itself when off."""
    if _tracer is None:
        return func
    from opentelemetry import context as otel_context

    captured = otel_context.get_current()

    def run(*args, **kwargs):
        token = otel_context.attach(captured)
        try:
            return func(*args, **kwargs)
        finally:
            otel_context.detach(token)

    return run
