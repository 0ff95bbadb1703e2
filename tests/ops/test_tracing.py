"""OpenTelemetry tracing in one process, with an in-memory exporter: a request's span continues the
caller's traceparent and names its route; the events it publishes carry its traceparent on their
outbox rows; the dispatcher's spans, each handler's and the websocket pushes they cause after the
commit continue that trace; log lines carry the real trace id. Off (the default): no span, and
the outbox row's traceparent stays empty. (tests/e2e/test_tracing.py: across a real worker.)"""

import pytest
from django_tenants.utils import tenant_context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, set_span_in_context

from apps.core import tracing
from apps.core.events import publish
from apps.events.models import Event
from apps.events.services import events_dispatch_new
from apps.ops import tracing as ops_tracing
from tests.conftest import client_for
from tests.ops.test_logs import lines  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
PAYLOAD = {"changes": {"name": {"old": "A", "new": "B"}}}


@pytest.fixture(scope="module")
def exporter():
    memory = InMemorySpanExporter()
    ops_tracing.setup(exporter=memory, service_name="hub-test")
    yield memory
    ops_tracing.shutdown()


@pytest.fixture
def spans(exporter):
    exporter.clear()
    return lambda: {span.name: span for span in exporter.get_finished_spans()}


def trace_of(span) -> str:
    return format(span.context.trace_id, "032x")


def test_a_request_span_continues_the_callers_trace_and_names_its_route(tenant_a, owner_a, spans, lines):  # noqa: F811
    response = client_for(tenant_a, owner_a).get("/members/", HTTP_TRACEPARENT=PARENT)
    assert response.status_code == 200
    [server] = [s for s in spans().values() if s.kind == SpanKind.SERVER]
    assert server.name == "GET members"  # the route's name, not its path
    assert trace_of(server) == TRACE
    assert format(server.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["hub.tenant"] == tenant_a.schema_name
    [line] = [x for x in lines() if x["event"] == "request"]
    assert line["trace_id"] == TRACE


def test_a_request_without_traceparent_starts_a_trace_that_its_log_lines_name(tenant_a, owner_a, spans, lines):  # noqa: F811
    client_for(tenant_a, owner_a).get("/members/")
    [server] = [s for s in spans().values() if s.kind == SpanKind.SERVER]
    assert server.parent is None
    [line] = [x for x in lines() if x["event"] == "request"]
    assert line["trace_id"] == trace_of(server) != TRACE


def test_the_outbox_carries_the_trace_to_the_dispatcher_its_handlers_and_the_websocket_push(
    tenant_a, owner_a, spans, django_capture_on_commit_callbacks
):
    with tenant_context(tenant_a), tracing.continuing(PARENT, "publisher", kind="server"):
        event = publish("organisation.settings_changed", PAYLOAD, tenant=tenant_a, actor=owner_a)
    assert tracing.trace_id_of(event.traceparent) == TRACE
    publisher = spans()["publisher"]
    assert event.traceparent == f"00-{TRACE}-{publisher.context.span_id:016x}-01"

    with tenant_context(tenant_a), django_capture_on_commit_callbacks(execute=True):
        events_dispatch_new()  # what the worker's task runs (outside any span of the request)
    finished = spans()
    dispatched = finished["event organisation.settings_changed"]
    assert trace_of(dispatched) == TRACE and dispatched.parent.span_id == publisher.context.span_id
    assert dispatched.attributes["hub.event.id"] == str(event.pk)
    live = finished["handler live_event"]
    assert live.parent.span_id == dispatched.context.span_id
    # The push to the dashboards ran after the commit, still in the event's trace.
    push = finished["ws push hub.event"]
    assert trace_of(push) == TRACE and push.parent.span_id == dispatched.context.span_id
    assert push.attributes["hub.group"] == f"hub.{tenant_a.schema_name}"
    # The batch handlers (notifications, webhooks, analytics) continue the trace their events share.
    batch = [s for name, s in finished.items() if name.startswith("handler ") and s.attributes.get("hub.events")]
    assert batch and all(trace_of(s) == TRACE for s in batch)


def test_a_batch_of_events_from_several_traces_links_to_each(tenant_a, spans, django_capture_on_commit_callbacks):
    other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with tenant_context(tenant_a):
        for parent in (PARENT, other):
            with tracing.continuing(parent, "publisher"):
                publish("organisation.settings_changed", PAYLOAD, tenant=tenant_a)
        with django_capture_on_commit_callbacks(execute=True):
            events_dispatch_new()
    batch = [s for s in spans().values() if s.name.startswith("handler ") and s.attributes.get("hub.events") == 2]
    assert batch
    for span in batch:
        assert {format(link.context.trace_id, "032x") for link in span.links} == {TRACE, other[3:35]}


def test_with_tracing_off_nothing_is_traced_and_the_outbox_row_has_no_traceparent(tenant_a, owner_a, spans):
    tracer = tracing._tracer
    tracing.install(None)
    try:
        assert not tracing.enabled() and tracing.traceparent() == "" and tracing.current_trace_id() is None
        client_for(tenant_a, owner_a).get("/members/", HTTP_TRACEPARENT=PARENT)
        with tenant_context(tenant_a):
            event = publish("organisation.settings_changed", PAYLOAD, tenant=tenant_a)
            assert Event.objects.get(pk=event.pk).traceparent == ""
    finally:
        tracing.install(tracer)
    assert spans() == {}


def test_a_request_whose_caller_sampled_the_trace_out_records_nothing_but_keeps_its_id(
    tenant_a,
    owner_a,
    spans,
    lines,  # noqa: F811
):
    response = client_for(tenant_a, owner_a).get("/members/", HTTP_TRACEPARENT=f"00-{TRACE}-00f067aa0ba902b7-00")
    assert response.status_code == 200
    assert spans() == {}  # neither the request's span nor its statements'
    [line] = [x for x in lines() if x["event"] == "request"]
    assert line["trace_id"] == TRACE  # the logs still name the caller's trace


def test_without_a_sampler_variable_a_share_of_the_roots_is_kept_and_children_follow(settings, monkeypatch):
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    settings.HUB_TRACING_SAMPLE_RATIO = 0.1
    tracer = TracerProvider(sampler=ops_tracing.sampler()).get_tracer("test")
    roots = [tracer.start_span("root") for _ in range(2000)]
    kept = [root for root in roots if root.is_recording()]
    assert 100 < len(kept) < 300  # about one in ten (binomial: 200 ± 13)
    for root in (kept[0], next(r for r in roots if not r.is_recording())):
        child = tracer.start_span("child", context=set_span_in_context(root))
        assert child.is_recording() == root.is_recording()  # a trace is kept or dropped whole
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    assert ops_tracing.sampler() is None  # the SDK reads the variable itself
