"""Paths: the events persons do after a start event (or before an end event), as a Sankey's
nodes and links.

What counts (tests/analytics/reference.py says the same in plain loops):

- A person's events in the range that the filters keep, less `exclude_events`, in time order
  (then uuid), split into sessions wherever two consecutive events are more than the session
  window apart.
- In each session, a path starts at the first `start_event` and takes the events after it, up to
  `steps` events in all; with `end_event` instead, it ends at the session's last `end_event` and
  takes the events before it. So a person gives at most one path per session.
- Steps are numbered from the anchor: 0 the start (or end) event, then 1, 2, … after it (or −1,
  −2, … before it). At each step, of the transitions from the paths still going, the `limit`
  with the most paths are kept (ties by the events' names); a path whose transition is not kept
  ends there. A node counts the paths through it; a link (earlier → later) the paths taking it.

The SQL numbers each person's events and marks session starts with row_number() and lag() over
(person, time), numbers the sessions with a running sum, finds each session's anchor with
min()/max() over (person, session) (all on one sort: the session's order follows the person's),
then groups the paths (arrays of event names, from the anchor outwards); the top-K cut, over the
few distinct paths, runs here.
"""

from zoneinfo import ZoneInfo

from . import common
from .shapes import PathsQuery


def paths_counted(query: PathsQuery, *, tz: ZoneInfo) -> list[tuple[list[str], int]]:
    """[(path, how many sessions took it)]: each path's event names from the anchor outwards."""
    start, end = common.bounds(query.range, tz)
    extra, params = common.where(common.filters_for(query.filters, query.exclude_test_accounts))
    backwards = query.start_event is None
    # The anchor is the session's first start event, or its last end event; the path takes the
    # events from it outwards (later ones, or earlier ones, newest first).
    anchor_at, taken, outwards = (
        ("max", "rn <= a AND rn > a - %s", "DESC") if backwards else ("min", "rn >= a AND rn < a + %s", "")
    )
    sql = f"""
        WITH kept AS (
            SELECT pdi.person_id AS person, e."timestamp" AS ts, e.uuid AS eu, e.event
            FROM {common.EVENTS_WITH_PERSONS}
            WHERE e."timestamp" >= %s AND e."timestamp" < %s AND NOT e.event = ANY(%s::text[]){extra}
        ), marked AS (
            SELECT person, ts, eu, event, row_number() OVER by_time AS rn,
                   CASE WHEN ts - lag(ts) OVER by_time <= %s::interval THEN 0 ELSE 1 END AS starts
            FROM kept WINDOW by_time AS (PARTITION BY person ORDER BY ts, eu)
        ), sessions AS (
            SELECT person, event, rn, sum(starts) OVER (PARTITION BY person ORDER BY ts, eu) AS session
            FROM marked
        ), anchored AS (
            SELECT person, session, event, rn,
                   {anchor_at}(CASE WHEN event = %s THEN rn END) OVER (PARTITION BY person, session) AS a
            FROM sessions
        )
        SELECT path, count(*) FROM (
            SELECT array_agg(event ORDER BY rn {outwards}) AS path FROM anchored
            WHERE {taken} GROUP BY person, session
        ) AS taken GROUP BY 1
    """
    anchor = query.end_event if backwards else query.start_event
    return common.fetch(
        sql,
        [
            start,
            end,
            list(query.exclude_events),
            *params,
            f"{query.session_seconds} seconds",
            anchor,
            query.steps,
        ],
    )


def graph(counted, *, steps: int, limit: int, backwards: bool) -> dict:
    """The nodes and links of the paths `counted` ([(path from the anchor outwards, count)]),
    keeping the `limit` most taken transitions at each step."""
    alive = [(tuple(path), count) for path, count in counted]
    sign = -1 if backwards else 1
    nodes: dict[tuple[int, str], int] = {}
    links = []
    for path, count in alive:
        nodes[(0, path[0])] = nodes.get((0, path[0]), 0) + count
    for i in range(1, steps):
        moves: dict[tuple[str, str], int] = {}
        for path, count in alive:
            if len(path) > i:
                moves[(path[i - 1], path[i])] = moves.get((path[i - 1], path[i]), 0) + count
        kept = sorted(moves, key=lambda m: (-moves[m], m))[:limit]
        alive = [(path, count) for path, count in alive if len(path) > i and (path[i - 1], path[i]) in kept]
        for before, after in kept:
            value = moves[(before, after)]
            nodes[(sign * i, after)] = nodes.get((sign * i, after), 0) + value
            near, far = (sign * (i - 1), before), (sign * i, after)
            source, target = (far, near) if backwards else (near, far)
            links.append({"source": _id(source), "target": _id(target), "value": value, "_step": min(near[0], far[0])})
    links.sort(key=lambda link: (link["_step"], -link["value"], link["source"], link["target"]))
    for link in links:
        del link["_step"]
    return {
        "paths": sum(count for _, count in counted),
        "nodes": [
            {"id": _id(node), "step": node[0], "event": node[1], "count": count}
            for node, count in sorted(nodes.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
        ],
        "links": links,
    }


def _id(node: tuple[int, str]) -> str:
    return f"{node[0]}_{node[1]}"


def paths(query: PathsQuery, *, tz: ZoneInfo, counted=None) -> dict:
    """{"paths": sessions with the anchor, "nodes": [{"id", "step", "event", "count"}],
    "links": [{"source", "target", "value"}]}; `counted` fetches the paths (default:
    paths_counted, the PostgreSQL SQL; the ClickHouse store passes its own)."""
    backwards = query.start_event is None
    rows = (counted or paths_counted)(query, tz=tz)
    return graph(rows, steps=query.steps, limit=query.limit, backwards=backwards)
