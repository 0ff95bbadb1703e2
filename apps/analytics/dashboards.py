"""Dashboards' rules that both services and selectors need: the layout's bounds, the overrides
a dashboard applies to its tiles' queries, and the date ranges people choose from."""

from copy import deepcopy
from datetime import date, timedelta

from django.core.exceptions import ValidationError

from .models import DATE_RANGES, GRID_COLUMNS, TILE_MAX_HEIGHT
from .queries.shapes import MAX_HOURS_DAYS, filters_parse

MAX_TILES = 30
MAX_ROW = 200
MAX_FILTERS = 20
RANGE_WORDS = {"": "Each insight's own dates", **{k: f"Last {days} days" for k, days in DATE_RANGES.items()}}


def range_check(value, field: str = "date_range") -> str:
    if value not in RANGE_WORDS:
        raise ValidationError({field: [f"Choose one of: {', '.join(k or '(empty)' for k in RANGE_WORDS)}."]})
    return value


def filters_check(value, field: str = "filters") -> list:
    """A dashboard's filter list, as the query engine reads filters (errors name filters.<i>.<field>)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_FILTERS:
        raise ValidationError({field: [f"Give a list of at most {MAX_FILTERS} filters."]})
    filters_parse(value, field)
    return value


def layout_check(layout, tile_ids: set[int]) -> dict[int, tuple[int, int, int, int]]:
    """`layout`: [{"id", "x", "y", "w", "h"}, …] naming tiles of the dashboard (`tile_ids`), each
    inside the 12-column grid, none overlapping another. Returns {id: (x, y, w, h)}; a
    ValidationError names the entry at fault (layout.<i>.<field>)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(layout, list) or len(layout) > MAX_TILES:
        raise ValidationError({"layout": [f"Give a list of at most {MAX_TILES} tiles."]})
    placed: dict[int, tuple[int, int, int, int]] = {}
    bounds = {"x": (0, GRID_COLUMNS - 1), "y": (0, MAX_ROW), "w": (1, GRID_COLUMNS), "h": (1, TILE_MAX_HEIGHT)}
    for i, item in enumerate(layout):
        if not isinstance(item, dict):
            errors[f"layout.{i}"] = ["Give an object with id, x, y, w and h."]
            continue
        tile_id = item.get("id")
        if isinstance(tile_id, bool) or not isinstance(tile_id, int) or tile_id not in tile_ids:
            errors[f"layout.{i}.id"] = ["No tile of this dashboard has this id."]
            continue
        if tile_id in placed:
            errors[f"layout.{i}.id"] = ["This tile is placed twice."]
            continue
        values = {}
        for name, (low, high) in bounds.items():
            value = item.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors[f"layout.{i}.{name}"] = [f"Give a whole number from {low} to {high}."]
            values[name] = value
        if f"layout.{i}.x" not in errors and f"layout.{i}.w" not in errors and values["x"] + values["w"] > GRID_COLUMNS:
            errors[f"layout.{i}.w"] = [f"The tile runs past the grid's {GRID_COLUMNS} columns: make it narrower."]
        if not any(key.startswith(f"layout.{i}.") for key in errors):
            placed[tile_id] = (values["x"], values["y"], values["w"], values["h"])
    if not errors:
        boxes = list(placed.items())
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                if _overlap(boxes[a][1], boxes[b][1]):
                    errors.setdefault("layout", []).append(f"Tiles {boxes[a][0]} and {boxes[b][0]} overlap.")
    if errors:
        raise ValidationError(errors)
    return placed


def _overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def free_spot(boxes: list[tuple[int, int, int, int]], w: int, h: int) -> tuple[int, int]:
    """The first place (reading order) where a w×h tile overlaps none of `boxes`."""
    for y in range(MAX_ROW + 1):
        for x in range(GRID_COLUMNS - w + 1):
            if not any(_overlap((x, y, w, h), box) for box in boxes):
                return x, y
    return 0, MAX_ROW


def span_of(date_range: str, *, today: date) -> tuple[str, str] | None:
    days = DATE_RANGES.get(date_range)
    if days is None:
        return None
    return (today - timedelta(days=days - 1)).isoformat(), today.isoformat()


def query_overridden(query: dict, *, date_from: str | None, date_to: str | None, filters: list) -> dict:
    """The insight's query with the dashboard's dates and filters: the dates replace its own, the
    filters are added to its own (all must hold). An hourly query over more than a month becomes
    daily (the engine's limit)."""
    query = deepcopy(query)
    if date_from and date_to:
        query["date_from"], query["date_to"] = date_from, date_to
        span = (date.fromisoformat(date_to) - date.fromisoformat(date_from)).days + 1
        if query.get("interval") == "hour" and span > MAX_HOURS_DAYS:
            query["interval"] = "day"
    if filters:
        own = query.get("filters") if isinstance(query.get("filters"), list) else []
        query["filters"] = own + list(filters)  # more than 20 in all: the engine says so
    return query
