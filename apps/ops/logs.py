"""Structured logs (structlog) for the web server, the workers and beat.

Every line, the hub's and the libraries' (they log through the standard library), goes through
one formatter: JSON, one object per line, with HUB_LOG_FORMAT=json (production's default), or
coloured key=value lines for people with `console` (development). A line logged while a request
or a task is handled carries its `request_id`, `tenant` (schema), `user_id` and `trace_id` (from
a W3C `traceparent` header) when known: OpsMiddleware binds them for a request, the Celery hooks
for a task (which gets the enqueuing request's id through the task's headers).
"""

import contextvars

import structlog
from django.utils.functional import empty

from apps.core import tracing

current_request = contextvars.ContextVar("hub_current_request", default=None)


def request_fields(logger, method_name, event_dict):
    """The tenant and the user of the request being handled, read when the line is written (the
    tenant is found after the request's id is bound, the user later still: by the session, or by
    DRF from an API key). A user not loaded yet is not loaded for a log line."""
    request = current_request.get()
    if request is None:
        return event_dict
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        event_dict.setdefault("tenant", tenant.schema_name)
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)  # a SimpleLazyObject until something reads it
    if wrapped is not None and wrapped is not empty and getattr(wrapped, "is_authenticated", False):
        event_dict.setdefault("user_id", wrapped.pk)
    return event_dict


def trace_fields(logger, method_name, event_dict):
    """With tracing on, the trace id of the span current when the line is written (a task's, a
    dispatched event's: not only a request's incoming header)."""
    trace_id = tracing.current_trace_id()
    if trace_id is not None:
        event_dict["trace_id"] = trace_id
    return event_dict


SHARED = [
    structlog.contextvars.merge_contextvars,
    request_fields,
    trace_fields,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def formatter(fmt: str = "console") -> structlog.stdlib.ProcessorFormatter:
    """The logging formatter LOGGING names (`"()": "apps.ops.logs.formatter"`); configures
    structlog's own loggers to go through it too."""
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    if fmt == "json":
        renderer = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        # Plain tracebacks: rich's highlighted ones cost seconds each (tests that take Redis down log many).
        renderer = [structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )


def bind(**fields) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**{k: v for k, v in fields.items() if v is not None})


def unbind() -> None:
    structlog.contextvars.clear_contextvars()
