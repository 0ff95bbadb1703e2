"""API key scopes: `<app>:read` or `<app>:write` for each app that offers endpoints.

Write includes read. Apps declare their scope name here in AppConfig.ready(); an endpoint names
its app in `api_scope`, and a key may call it only with a matching scope.
"""

READ, WRITE = "read", "write"
_apps: dict[str, str] = {}
_read_only: set[str] = set()


def register(app: str, description: str, *, read_only: bool = False) -> None:
    """Declares `app`'s scopes; a read-only app (no write endpoints) offers only `<app>:read`."""
    if app in _apps:
        raise ValueError(f"API scope app {app!r} is registered twice")
    _apps[app] = description
    if read_only:
        _read_only.add(app)


def apps() -> dict[str, str]:
    return dict(sorted(_apps.items()))


def levels(app: str) -> tuple[str, ...]:
    return (READ,) if app in _read_only else (READ, WRITE)


def all_scopes() -> list[str]:
    return [f"{app}:{level}" for app in apps() for level in levels(app)]


def choices() -> list[tuple[str, str]]:
    return [(s, s) for s in all_scopes()]


def allows(granted, app: str, write: bool) -> bool:
    """Whether the scopes `granted` allow reading (or writing) through `app`'s endpoints."""
    if f"{app}:{WRITE}" in granted:
        return True
    return not write and f"{app}:{READ}" in granted
