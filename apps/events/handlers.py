"""Runs the handlers of dispatched events. Apps register them in AppConfig.ready():

    from apps.core.registry import EventHandler, register_event_handler
    register_event_handler(EventHandler("member.joined", notify_admins))            # one type
    register_event_handler(EventHandler("*", push_to_dashboards))                   # every type
    register_event_handler(EventHandler("*", deliver_webhooks, batch=True))         # a list of events

A handler is called as handler(event) inside the dispatcher's transaction, in the tenant's
schema; a batch handler as handler(events), once per dispatch with every event of the batch it
is registered for, oldest first (so it can read and write in bulk). It must only write to the
database and defer side effects to transaction.on_commit (enqueue a task, push to a websocket
group): if any handler raises, the whole dispatch rolls back and is retried, so nothing a
handler did half-way survives.

A plugin's handler is the exception: it runs in a savepoint of its own, and if it raises, what it
did is undone, the plugin is disabled for the tenant with the error as the reason
(apps.core.plugins.plugin_failed) and the dispatch carries on. Handlers of plugins the tenant
has not enabled do not run at all (registry.handlers_for asks registry.active).
"""

import logging

from django.db import connection, transaction

from apps.core import tracing
from apps.core.plugins import plugin_failed
from apps.core.registry import registry

log = logging.getLogger(__name__)


def _plugin(registered) -> str:
    return registry.plugin_of("event_handlers", (registered.event_type, registered.handler))


def _call(handler, argument, plugin: str, failed: set) -> None:
    if not plugin:
        handler(argument)
        return
    if plugin in failed:
        return
    try:
        with transaction.atomic():
            handler(argument)
    except Exception as exc:  # noqa: BLE001 — a plugin's bug must not stop the hub's handlers
        failed.add(plugin)
        log.exception("plugin %s failed handling events; disabling it for %s", plugin, connection.schema_name)
        plugin_failed(plugin, f"Its event handler failed: {type(exc).__name__}: {exc}")


def handle(events: list) -> None:
    """Runs the handlers of `events`: each plain handler once per event, in order, then each batch
    handler once with its events."""
    if tracing.enabled():
        return _handle_traced(events)
    batches: dict = {}
    failed: set = set()
    for event in events:
        for registered in registry.handlers_for(event.type):
            if registered.batch:
                batches.setdefault((registered.handler, _plugin(registered)), []).append(event)
            else:
                _call(registered.handler, event, _plugin(registered), failed)
    for (handler, plugin), its_events in batches.items():
        _call(handler, its_events, plugin, failed)


def _handle_traced(events: list) -> None:
    """handle() with tracing on: each event's plain handlers run in a span continuing the trace
    its outbox row carries (the publishing request's), and what they defer to after the commit
    (a websocket push, a task to enqueue) runs in that span too. A batch handler's span continues
    the trace its events share, or links to each of their spans when they came from several."""
    batches: dict = {}
    failed: set = set()
    for event in events:
        with tracing.continuing(event.traceparent, f"event {event.type}", attributes=_attributes(event)):
            with _deferred_in_this_span():
                for registered in registry.handlers_for(event.type):
                    if registered.batch:
                        batches.setdefault((registered.handler, _plugin(registered)), []).append(event)
                    else:
                        with tracing.span(f"handler {_name(registered.handler)}"):
                            _call(registered.handler, event, _plugin(registered), failed)
    for (handler, plugin), its_events in batches.items():
        parents = {e.traceparent for e in its_events}
        shared = parents.pop() if len(parents) == 1 else ""
        links = [] if shared else [link for e in its_events if (link := tracing.link(e.traceparent))]
        with tracing.continuing(
            shared, f"handler {_name(handler)}", links=links, attributes={"hub.events": len(its_events)}
        ):
            with _deferred_in_this_span():
                _call(handler, its_events, plugin, failed)


def _attributes(event) -> dict:
    return {"hub.event.id": str(event.pk), "hub.event.type": event.type, "hub.tenant": connection.schema_name}


def _name(handler) -> str:
    return getattr(handler, "__qualname__", None) or type(handler).__name__


class _deferred_in_this_span:
    """Within the block, callbacks given to transaction.on_commit run, after the commit, in the
    span current in the block (Django runs them later, outside it)."""

    def __enter__(self):
        self.first = len(connection.run_on_commit)

    def __exit__(self, *exc):
        callbacks = connection.run_on_commit
        for index in range(self.first, len(callbacks)):
            savepoints, func, robust = callbacks[index]
            callbacks[index] = (savepoints, tracing.in_current_context(func), robust)
        return False
