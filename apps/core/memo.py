"""A memo for the span of one unit of work (the events of one dispatch): within `memo_scope()`,
`memoized(key, compute)` computes each key once; outside a scope it always computes."""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_memo: ContextVar[dict | None] = ContextVar("hub_memo", default=None)


@contextmanager
def memo_scope():
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def memoized(key, compute: Callable[[], Any]) -> Any:
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]
