"""Who listens to which event type. Apps subscribe in AppConfig.ready():

    from apps.events.handlers import subscribe
    subscribe("member.joined", notify_admins)      # one type
    subscribe("*", push_to_dashboards)             # every type

A handler is called as handler(event) inside the dispatcher's transaction, in the tenant's
schema. It must only write to the database and defer side effects to transaction.on_commit
(enqueue a task, push to a websocket group): if any handler raises, the whole dispatch rolls
back and is retried, so nothing a handler did half-way survives.
"""

from collections import defaultdict
from collections.abc import Callable

Handler = Callable[..., None]

_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event_type: str, handler: Handler) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def unsubscribe(event_type: str, handler: Handler) -> None:
    if handler in _handlers.get(event_type, []):
        _handlers[event_type].remove(handler)


def handlers_for(event_type: str) -> list[Handler]:
    return [*_handlers.get(event_type, []), *_handlers.get("*", [])]
