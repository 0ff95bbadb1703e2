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
"""

from apps.core.registry import registry


def handle(events: list) -> None:
    """Runs the handlers of `events`: each plain handler once per event, in order, then each batch
    handler once with its events."""
    batches: dict = {}
    for event in events:
        for registered in registry.handlers_for(event.type):
            if registered.batch:
                batches.setdefault(registered.handler, []).append(event)
            else:
                registered.handler(event)
    for handler, its_events in batches.items():
        handler(its_events)
