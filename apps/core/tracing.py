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
_otel: dict = {}  # the API's functions, looked up once when tracing is turned on


def install(tracer) -> None:
    """Turns tracing on in this process (apps.ops.tracing.setup), or off with None."""
    global _tracer
    if tracer is not None and not _otel:
        from opentelemetry import context, trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        _otel.update(
            current=trace.get_current_span,
            attach=context.attach,
            detach=context.detach,
            in_context=trace.set_span_in_context,
            kinds={kind.name.lower(): kind for kind in SpanKind},
            error=lambda exc: Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"),
        )
    _tracer = tracer


class _Current:
    """A started span made current for a block, ended after it (an exception is recorded on it).
    What the SDK's start_as_current_span does, without its two generator-based context managers:
    about a third of the cost of a span, paid on every request and statement."""

    __slots__ = ("span", "token")

    def __init__(self, span):
        self.span = span

    def __enter__(self):
        self.token = _otel["attach"](_otel["in_context"](self.span))
        return self.span

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc is not None and self.span.is_recording():
                self.span.record_exception(exc)
                self.span.set_status(_otel["error"](exc))
            self.span.end()
        finally:
            _otel["detach"](self.token)
        return False


def recording() -> bool:
    """Whether the current span is recorded (tracing on, a span current, its trace sampled in)."""
    return _tracer is not None and _otel["current"]().is_recording()


def leaf(name: str, *, kind: str = "internal", attributes: dict | None = None):
    """A started child span of the current one that will have no children (an SQL statement):
    not made current, so cheaper. None while tracing is off, and when the current span is not
    recorded (none, or its trace was sampled out): a statement is traced as part of a request's
    or a task's trace, never alone. Call `.end()` on it."""
    if not recording():
        return None
    return _tracer.start_span(name, kind=_otel["kinds"][kind], attributes=attributes)


def enabled() -> bool:
    return _tracer is not None


def span(name: str, *, kind: str = "internal", attributes: dict | None = None) -> AbstractContextManager:
    """A child span of the current one, current inside the block (nothing while tracing is off)."""
    if _tracer is None:
        return _NONE
    return _Current(_tracer.start_span(name, kind=_otel["kinds"][kind], attributes=attributes))


def continuing(
    traceparent: str, name: str, *, kind: str = "consumer", attributes: dict | None = None, links=None
) -> AbstractContextManager:
    """A span continuing the trace `traceparent` names (a new trace when it is empty or malformed)."""
    if _tracer is None:
        return _NONE
    from opentelemetry.propagate import extract

    parent = extract({"traceparent": traceparent}) if traceparent else None
    return _Current(
        _tracer.start_span(name, context=parent, kind=_otel["kinds"][kind], attributes=attributes, links=links)
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
