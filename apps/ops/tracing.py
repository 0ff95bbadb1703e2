"""Turning OpenTelemetry tracing on for a process (web server, worker, beat).

`setup()` runs from OpsConfig.ready() when HUB_TRACING_ENABLED is true (it is by default when an
OTLP endpoint is set: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). It
makes a tracer provider of this process (the SDK reads OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER and OTEL_BSP_* from the environment; without OTEL_TRACES_SAMPLER it keeps
HUB_TRACING_SAMPLE_RATIO of the traces, see `sampler()`), exports by OTLP over HTTP in batches
from a background thread, and instruments:

- requests: a server span per request in OpsMiddleware, continuing an incoming `traceparent`;
- Celery: opentelemetry-instrumentation-celery (a span to send a task, one to run it, the
  context in the task's headers);
- SQL statements: a client span per statement (an execute wrapper, like the metrics'), unless
  HUB_TRACING_SQL is off;
- Redis: opentelemetry-instrumentation-redis, with HUB_TRACING_REDIS (off by default: a span per
  cache call is many spans for little news);
- the outbox, its handlers and the websocket pushes: apps.core.tracing's helpers.

Tests pass their own exporter (an in-memory one) to `setup()` and call `shutdown()` after.
"""

import logging
import os

from django.conf import settings
from django.db.backends.signals import connection_created

from apps.core import tracing

logger = logging.getLogger(__name__)
_state: dict = {}
SQL_OPERATIONS = {"SELECT", "INSERT", "UPDATE", "DELETE"}


def setup(*, exporter=None, service_name: str | None = None) -> None:
    """Tracing on in this process, exporting by OTLP (or to `exporter`: synchronously, for tests)."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if _state:
        shutdown()
    attributes = {SERVICE_NAME: service_name} if service_name else {}
    resource = Resource.create(attributes)  # OTEL_SERVICE_NAME, else "unknown_service"
    if resource.attributes.get(SERVICE_NAME, "").startswith("unknown_service"):
        resource = resource.merge(Resource.create({SERVICE_NAME: settings.HUB_TRACING_SERVICE_NAME}))
    provider = TracerProvider(resource=resource, sampler=sampler())
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    celery = CeleryInstrumentor()
    celery.instrument(tracer_provider=provider)
    _state.update(provider=provider, celery=celery)
    if settings.HUB_TRACING_REDIS:
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        redis = RedisInstrumentor()
        redis.instrument(tracer_provider=provider)
        _state["redis"] = redis
    if settings.HUB_TRACING_SQL:
        connection_created.connect(_install_sql_spans, dispatch_uid="hub-tracing-db")
    tracing.install(provider.get_tracer("apps.hub"))


def sampler():
    """The SDK's sampler when OTEL_TRACES_SAMPLER is set (None: it reads the variable), else
    parent-based at HUB_TRACING_SAMPLE_RATIO: a root span is kept that often, every other span
    follows its parent's choice, so a trace is kept or dropped whole."""
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return None
    return ParentBased(TraceIdRatioBased(settings.HUB_TRACING_SAMPLE_RATIO))


def shutdown() -> None:
    """Tracing off again: spans still buffered are exported first."""
    tracing.install(None)
    connection_created.disconnect(dispatch_uid="hub-tracing-db")
    if not _state:
        return
    _state["celery"].uninstrument()
    if "redis" in _state:
        _state["redis"].uninstrument()
    _state["provider"].shutdown()
    _state.clear()


def flush(timeout_millis: int = 5000) -> bool:
    provider = _state.get("provider")
    return provider.force_flush(timeout_millis) if provider else True


def _sql_span(execute, sql, params, many, context):
    if not tracing.recording():  # outside a recorded trace, or tracing turned off since the connection opened
        return execute(sql, params, many, context)
    operation = sql[:6].upper() if sql else ""
    if operation not in SQL_OPERATIONS:  # a bounded span name
        operation = sql.lstrip().split(None, 1)[0].upper()[:20] if sql else "SQL"
    span = tracing.leaf(
        f"db {operation}", kind="client", attributes={"db.system.name": "postgresql", "db.operation.name": operation}
    )
    try:
        return execute(sql, params, many, context)
    except Exception as exc:
        span.record_exception(exc)
        raise
    finally:
        span.end()


def _install_sql_spans(sender, connection, **kwargs):
    if _sql_span not in connection.execute_wrappers:
        connection.execute_wrappers.append(_sql_span)
