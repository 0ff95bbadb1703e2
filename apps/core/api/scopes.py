"""API key scopes: `<app>:read` or `<app>:write` for each app that offers endpoints.

Write includes read. Apps declare their scopes as ApiScope items in the registry in
AppConfig.ready(); an endpoint names its app in `api_scope`, and a key may call it only with a
matching scope. This module reads the registry's api_scopes store.
"""

from apps.core.registry import registry

READ, WRITE = "read", "write"


def apps() -> dict[str, str]:
    return dict(sorted((scope.name, scope.description) for scope in registry["api_scopes"].values()))


def levels(app: str) -> tuple[str, ...]:
    scope = registry["api_scopes"].get(app)
    return (READ,) if scope is not None and scope.read_only else (READ, WRITE)


def all_scopes() -> list[str]:
    return [f"{app}:{level}" for app in apps() for level in levels(app)]


def choices() -> list[tuple[str, str]]:
    return [(s, s) for s in all_scopes()]


LEVEL_WORDS = {READ: "view", WRITE: "view and change"}


def human_choices() -> list[tuple[str, str]]:
    """(scope, words) for forms: "Members: view and change — Who belongs to …", the code small
    beside it for developers (in one span: a checkbox's label lays out as the box and its words)."""
    from django.utils.html import format_html

    return [
        (
            f"{scope.name}:{level}",
            format_html(
                '<span>{}: {} <small class="muted">— {} <code>{}</code></small></span>',
                scope.title,
                LEVEL_WORDS[level],
                scope.description,
                f"{scope.name}:{level}",
            ),
        )
        for scope in sorted(registry["api_scopes"].values(), key=lambda s: s.title)
        for level in levels(scope.name)
    ]


def describe(scope: str) -> str:
    """Words for one scope code ("Members: view"); the code itself if no app declares it."""
    name, _, level = scope.partition(":")
    declared = registry["api_scopes"].get(name)
    return f"{declared.title}: {LEVEL_WORDS.get(level, level)}" if declared else scope


def allows(granted, app: str, write: bool) -> bool:
    """Whether the scopes `granted` allow reading (or writing) through `app`'s endpoints."""
    if f"{app}:{WRITE}" in granted:
        return True
    return not write and f"{app}:{READ}" in granted
