"""Who listens to which event type. Apps subscribe in AppConfig.ready():

    from apps.events.handlers import subscribe
    subscribe("member.joined", notify_admins)                # one type
    subscribe("*", push_to_dashboards)                       # every type
    subscribe("*", deliver_webhooks, batch=True)             # called with a list of events

A handler is called as handler(event) inside the dispatcher's transaction, in the tenant's
schema; a batch handler as handler(events), once per dispatch with every event of the batch it
is subscribed to, oldest first (so it can read and write in bulk). It must only write to the
database and defer side effects to transaction.on_commit (enqueue a task, push to a websocket
group): if any handler raises, the whole dispatch rolls back and is retried, so nothing a
handler did half-way survives.
"""

from collections import defaultdict
from collections.abc import Callable

Handler = Callable[..., None]

_handlers: dict[str, list[Handler]] = defaultdict(list)
_batch_handlers: set[Handler] = set()


def subscribe(event_type: str, handler: Handler, *, batch: bool = False) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)
    if batch:
        _batch_handlers.add(handler)


def unsubscribe(event_type: str, handler: Handler) -> None:
    if handler in _handlers.get(event_type, []):
        _handlers[event_type].remove(handler)
    if not any(handler in handlers for handlers in _handlers.values()):
        _batch_handlers.discard(handler)


def handlers_for(event_type: str) -> list[Handler]:
    return [*_handlers.get(event_type, []), *_handlers.get("*", [])]


def handle(events: list) -> None:
    """Runs the handlers of `events`: each plain handler once per event, in order, then each batch
    handler once with its events."""
    batches: dict[Handler, list] = {}
    for event in events:
        for handler in handlers_for(event.type):
            if handler in _batch_handlers:
                batches.setdefault(handler, []).append(event)
            else:
                handler(event)
    for handler, its_events in batches.items():
        handler(its_events)
