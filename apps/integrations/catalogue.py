"""Every ready connector by key: the hand-written ones and those of the bundled OpenAPI documents."""

from functools import cache

from .connectors import Connector, chat, generic, issues, mail
from .openapi import bundled_connectors


@cache
def _all() -> tuple[Connector, ...]:
    return (*chat.CONNECTORS, *issues.CONNECTORS, *generic.CONNECTORS, *mail.CONNECTORS, *bundled_connectors())


def connectors() -> dict[str, Connector]:
    """The ready connectors by key (the bundled OpenAPI ones included)."""
    return {c.key: c for c in _all()}
