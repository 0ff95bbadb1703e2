"""A flag as one JSON definition: what the engine compiles, FlagVersion keeps and the API shows."""

from datetime import datetime

from .models import Flag


def iso_or_none(value) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def definition_of(flag: Flag) -> dict:
    """The flag as the engine and FlagVersion keep it."""
    return {
        "id": flag.pk,
        "key": flag.key,
        "name": flag.name,
        "description": flag.description,
        "active": flag.active,
        "starts_at": iso_or_none(flag.starts_at),
        "ends_at": iso_or_none(flag.ends_at),
        "filters": flag.filters,
        "overrides": flag.overrides,
        "version": flag.version,
    }
