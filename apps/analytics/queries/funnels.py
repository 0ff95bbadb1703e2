"""Funnels: how many persons went through the steps, in order, within the conversion window.

What counts (the reference in tests/analytics/reference.py says the same in plain loops):

- A person enters at any event matching step 0 whose day (in the tenant's time zone) is in the
  range. Events are ordered by (timestamp, uuid), so no event comes "at the same time" as another
  and one event never serves two steps.
- "ordered": from an entry, each next step is the person's first event after the previous step's
  that matches it, no later than entry + window (other events may come between).
  "strict": each next step must be the person's very next event (of those the query's filters
  keep). "any": the steps in any order; each event after the entry, in time, completes the first
  step not done yet that it matches, within the window.
- A person's depth is the most steps any of their entries reaches; the attempt reported (its
  times, its breakdown value) is the earliest entry that reaches it.

The SQL narrows the events to the persons who entered (through their person, so merged distinct
ids are one person), with each event's matching steps as a bit mask, one row per person with
their events in order; the walk along each person's events runs here.
"""

import statistics
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from . import common
from .shapes import FunnelQuery

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _picked(query: FunnelQuery, tz: ZoneInfo, *, person_uuid: bool = True) -> tuple[str, list]:
    """The events that matter, one row each: person_id, uuid (the person's; NULL unless
    `person_uuid`), ts, eu (the event's uuid), micros (ts in microseconds since 1970), mask (the
    steps it matches, as bits), bd (its breakdown value). The person's row is joined only when
    the uuid or a person property is wanted.

    Step 0's bit is set only on events before the range's end: later ones cannot be entries, and
    no walk reads bit 0 past the entry. So, unless the funnel is strict (which reads every
    event), each step's event is read on its own (UNION ALL), step 0's from the range only, the
    later steps' from the range and the window after it: index-only scans of (event,
    "timestamp") INCLUDE (distinct_id, uuid) when no filter reads the event's properties."""
    start, end = common.bounds(query.range, tz)
    window_end = end + timedelta(seconds=query.window_seconds)
    extra, params = common.where(common.filters_for(query.filters, query.exclude_test_accounts))
    masks, mask_params = [], []
    for i, step in enumerate(query.steps):
        step_where, step_params = common.where(step.filters)
        entry = ' AND e."timestamp" < %s' if i == 0 else ""
        masks.append(f"CASE WHEN e.event = %s{entry}{step_where} THEN {1 << i} ELSE 0 END")
        mask_params += [step.event, *([end] if i == 0 else []), *step_params]
    mask = " | ".join(masks)
    breakdown, breakdown_params = "NULL::text", []
    if query.breakdown:
        breakdown, breakdown_params = common.property_text(query.breakdown.type), [query.breakdown.property]
    columns = 'e."timestamp", e.uuid, e.event, e.distinct_id'
    if "e.properties" in mask + breakdown + extra:
        columns += ", e.properties"
    select = f"SELECT {columns} FROM analytics_event e WHERE"
    if query.order == "strict":
        parts = [f'{select} e."timestamp" >= %s AND e."timestamp" < %s']
        part_params = [start, window_end]
    else:
        parts, part_params = [], []
        later = {s.event for s in query.steps[1:]}
        for name in dict.fromkeys(s.event for s in query.steps):
            parts.append(f'{select} e.event = %s AND e."timestamp" >= %s AND e."timestamp" < %s')
            part_params += [name, start, window_end if name in later else end]
    persons = person_uuid or "p.properties" in mask + breakdown + extra
    joined = "JOIN analytics_persondistinctid pdi ON pdi.distinct_id = e.distinct_id"
    if persons:
        joined += " JOIN analytics_person p ON p.id = pdi.person_id"
    sql = f"""
        SELECT pdi.person_id, {"p.uuid" if person_uuid else "NULL::uuid"} AS uuid, e."timestamp" AS ts, e.uuid AS eu,
               (extract(epoch FROM e."timestamp") * 1000000)::bigint AS micros, ({mask}) AS mask, {breakdown} AS bd
        FROM ({" UNION ALL ".join(parts)}) AS e {joined}
        WHERE true{extra}
    """
    return sql, [*mask_params, *breakdown_params, *part_params, *params]


def funnel_persons_events(query: FunnelQuery, *, tz: ZoneInfo) -> list[tuple]:
    """[(person id, person uuid, [times], [step masks], [breakdown values])], by person id; times
    in microseconds since 1970 (integers: quicker to read than datetimes)."""
    picked, params = _picked(query, tz)
    sql = f"""
        SELECT person_id, uuid, array_agg(micros ORDER BY ts, eu), array_agg(mask ORDER BY ts, eu),
               array_agg(bd ORDER BY ts, eu)
        FROM ({picked}) AS picked
        WHERE mask <> 0 OR %s
        GROUP BY person_id, uuid
        HAVING bool_or(mask & 1 = 1)
        ORDER BY person_id
    """
    return common.fetch(sql, [*params, query.order == "strict"])


def ordered_reached(query: FunnelQuery, *, tz: ZoneInfo) -> list[tuple]:
    """An ordered funnel's persons, walked in SQL: [(person uuid or None, depth, [step times],
    breakdown value)] for each person who entered, as funnel() builds them from walk(); the
    uuid only when the query asks for persons.

    One ordered pass over each person's events, latest first, no join back: for a step k > 0
    and a later step j ≥ k, `t{k}_{j}` is the time at which the greedy chain reaches step j when
    it looks for step k after this event. The chain takes the first later event of step k, and
    from a later event the chain can only reach each step later (it has fewer events to pick
    from), so that time is the least over the later events of step k: for j = k their own time,
    for j > k their `t{k+1}_{j}`, computed one level before (the levels run from the last step
    down, each a running min over the same window, so PostgreSQL sorts once). An entry's chain
    is then its own time and its `t1_j`, cut at the first beyond the window (the times never
    decrease). Each person keeps their earliest entry of the greatest depth."""
    picked, params = _picked(query, tz, person_uuid=False)
    steps = len(query.steps)
    window = query.window_seconds * 1_000_000
    later = (
        "WINDOW later AS (PARTITION BY person_id ORDER BY ts DESC, eu DESC "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    )
    levels, below, columns = [], "ev", []
    for k in range(steps - 1, 0, -1):
        bit = f"mask & {1 << k} <> 0"
        made = [f"min(micros) FILTER (WHERE {bit}) OVER later AS t{k}_{k}"]
        made += [f"min(t{k + 1}_{j}) FILTER (WHERE {bit}) OVER later AS t{k}_{j}" for j in range(k + 1, steps)]
        levels.append(
            f"l{k} AS (SELECT person_id, ts, eu, micros, mask, bd, {', '.join(columns + made)} FROM {below} {later})"
        )
        columns = [f"t{k}_{j}" for j in range(k, steps)]
        below = f"l{k}"
    times = ", ".join(f"t1_{j}" for j in range(1, steps))
    # The chain's times stay no later than the window's end: a step beyond it ends the chain.
    depth = " + ".join(["1"] + [f"coalesce((t1_{j} <= micros + {window})::int, 0)" for j in range(1, steps)])
    uuid = "(SELECT p.uuid::text FROM analytics_person p WHERE p.id = best.person_id)" if query.persons else "NULL"
    sql = f"""
        WITH ev AS (
            SELECT person_id, ts, eu, micros, mask, bd FROM ({picked}) AS picked WHERE mask <> 0
        ), {", ".join(levels)}
        SELECT {uuid}, depth, micros, {times}, bd
        FROM (
            SELECT DISTINCT ON (person_id) person_id, {depth} AS depth, micros, {times}, bd
            FROM {below} WHERE mask & 1 <> 0
            ORDER BY person_id, 2 DESC, ts, eu
        ) AS best
        ORDER BY person_id
    """
    out = []
    for row in common.fetch_big(sql, params):
        out.append((row[0], row[1], list(row[2 : 2 + row[1]]), row[-1]))
    return out


# The events that matter as one bytea, 20 bytes an event: person id (int8), time (timestamptz:
# int8 microseconds since 2000-01-01 UTC) and step mask (int4), big-endian as PostgreSQL sends them.
_ROW = np.dtype([("p", ">i8"), ("t", ">i8"), ("m", ">i4")])
_Y2K_MICROS = 946_684_800_000_000


def ordered_walked(query: FunnelQuery, *, tz: ZoneInfo) -> list[tuple]:
    """ordered_reached() for a funnel without breakdown or persons page, walked with numpy: the
    events that matter come sorted by person and time in one bytea (three integers an event; no
    row or number for the driver to make), and each step's "next event of step k after this one"
    is one reversed running minimum over all rows. The chain from an entry follows those pointers
    (the same greedy chain as walk()), cut at the window and at the person's last event; each
    person keeps their earliest entry of the greatest depth. [(None, depth, [step times], None)],
    by person id."""
    picked, params = _picked(query, tz, person_uuid=False)
    sql = f"""
        SELECT string_agg(int8send(person_id) || timestamptz_send(ts) || int4send(mask), ''::bytea
                          ORDER BY person_id, ts, eu)
        FROM ({picked}) AS picked WHERE mask <> 0
    """
    data = common.fetch_big(sql, params)[0][0] or b""
    rows = np.frombuffer(data, dtype=_ROW)
    person, mask = rows["p"].astype(np.int64), rows["m"].astype(np.int64)
    at = rows["t"].astype(np.int64) + _Y2K_MICROS
    n = len(person)
    # Index n stands for "none": a row past the end, of no person.
    person_x, at_x = np.append(person, -1), np.append(at, 0)
    entries = np.flatnonzero(mask & 1)
    chain, ok = entries, np.ones(len(entries), dtype=bool)
    depth = np.ones(len(entries), dtype=np.int64)
    deadline = at[entries] + query.window_seconds * 1_000_000
    times = [at[entries]]
    for k in range(1, len(query.steps)):
        own = np.where(mask & (1 << k), np.arange(n), n)
        # the first row of step k at or after each row, then strictly after it
        at_or_after = np.minimum.accumulate(own[::-1])[::-1]
        after = np.append(at_or_after[1:], n)
        chain = np.append(after, n)[np.where(ok, chain, n)]
        ok = ok & (chain < n) & (person_x[chain] == person[entries]) & (at_x[chain] <= deadline)
        depth += ok
        times.append(at_x[chain])
    # Entries are in (person, time) order: per person, the first of the greatest depth.
    order = np.lexsort((-depth, person[entries]))  # stable: earlier entries first among equals
    firsts = order[np.flatnonzero(np.diff(person[entries][order], prepend=-1))]
    out = []
    for i, d in zip(firsts.tolist(), depth[firsts].tolist(), strict=True):
        out.append((None, d, [int(times[k][i]) for k in range(d)], None))
    return out


def walk(times, masks, *, order: str, steps: int, window, entry_end) -> tuple[int, list]:
    """A person's depth (steps reached) and the positions of the attempt's events that reach it."""
    most = (
        _ordered_depth(times, masks, steps=steps, window=window, entry_end=entry_end) if order == "ordered" else steps
    )
    best_depth, best_chain = 0, []
    for i, (at, mask) in enumerate(zip(times, masks, strict=True)):
        if not mask & 1 or at >= entry_end:
            continue
        chain = _chain(times, masks, i, order=order, steps=steps, window=window)
        if len(chain) > best_depth:
            best_depth, best_chain = len(chain), chain
        if best_depth == most:
            break
    return best_depth, best_chain


def _ordered_depth(times, masks, *, steps, window, entry_end) -> int:
    """The depth of an ordered funnel in one pass: for each step, the latest entry time of a chain
    that has reached it (a later entry leaves more of the window). Steps are tried from the last
    down, so one event extends a chain by one step only. It tells the attempts' walk when to stop."""
    latest = [None] * steps
    for at, mask in zip(times, masks, strict=True):
        for k in range(steps - 1, 0, -1):
            if mask >> k & 1 and latest[k - 1] is not None and at - latest[k - 1] <= window:
                latest[k] = latest[k - 1]
        if mask & 1 and at < entry_end:
            latest[0] = at
    return max((k + 1 for k in range(steps) if latest[k] is not None), default=0)


def _chain(times, masks, first: int, *, order, steps, window) -> list:
    chain = [first]
    done = 1
    limit = times[first] + window
    for i in range(first + 1, len(times)):
        at, mask = times[i], masks[i]
        if at > limit or len(chain) == steps:
            break
        if order == "any":
            todo = [k for k in range(steps) if mask >> k & 1 and not done >> k & 1]
            if todo:
                done |= 1 << todo[0]
                chain.append(i)
            continue
        if mask >> len(chain) & 1:
            chain.append(i)
        elif order == "strict":
            break
    return chain


def funnel(query: FunnelQuery, *, tz: ZoneInfo, persons_events=None) -> dict:
    """The funnel's answer; `persons_events` fetches the rows (default: funnel_persons_events, the
    ClickHouse store passes its own of the same shape)."""
    entry_end = _micros(common.bounds(query.range, tz)[1])
    window = query.window_seconds * 1_000_000
    steps = len(query.steps)
    reached = []  # (person uuid, depth, times, breakdown value)
    # PostgreSQL walks ordered funnels in SQL (ordered_reached); the other orders, and a store
    # that brings its own rows (ClickHouse), are walked here.
    in_sql = persons_events is None and query.order == "ordered"
    if in_sql and not query.breakdown and not query.persons:
        reached = ordered_walked(query, tz=tz)
    elif in_sql:
        reached = ordered_reached(query, tz=tz)
    rows = [] if in_sql else (persons_events or funnel_persons_events)(query, tz=tz)
    for _, person_uuid, times, masks, values in rows:
        depth, chain = walk(times, masks, order=query.order, steps=steps, window=window, entry_end=entry_end)
        if depth:
            value = values[chain[0]] if query.breakdown else None
            reached.append((str(person_uuid), depth, [times[i] for i in chain], value))
    if query.persons:
        return _persons(query, reached)
    result = {"steps": _steps(query, reached)}
    if query.breakdown:
        result["breakdown"] = [
            {"breakdown_value": value, "steps": _steps(query, group)} for value, group in _groups(query, reached)
        ]
    return result


def _groups(query: FunnelQuery, reached: list) -> list:
    """The breakdown's values with the most persons entering (ties: by value), then "$other"."""
    counts = {}
    for item in reached:
        counts[item[3]] = counts.get(item[3], 0) + 1
    ranked = sorted(counts, key=lambda v: (-counts[v], v is not None, (v or "").encode()))
    top = ranked[: query.breakdown.limit]
    groups = [(v, [item for item in reached if item[3] == v]) for v in top]
    if len(ranked) > len(top):
        groups.append(("$other", [item for item in reached if item[3] not in top]))
    return groups


def _steps(query: FunnelQuery, reached: list) -> list[dict]:
    entered = len(reached)
    out = []
    for k, step in enumerate(query.steps):
        persons = [item for item in reached if item[1] > k]
        count = len(persons)
        before = len([item for item in reached if item[1] > k - 1]) if k else count
        item = {
            "event": step.event,
            "count": count,
            "conversion_rate": _rate(count, entered),
            "step_conversion_rate": _rate(count, before),
        }
        if k:
            seconds = [(p[2][k] - p[2][k - 1]) / 1_000_000 for p in persons]
            item["avg_seconds_from_previous"] = round(statistics.fmean(seconds), 3) if seconds else None
            item["median_seconds_from_previous"] = round(statistics.median(seconds), 3) if seconds else None
        out.append(item)
    return out


def _micros(moment) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _rate(count: int, of: int) -> float:
    return round(count / of, 6) if of else 0.0


def _persons(query: FunnelQuery, reached: list) -> dict:
    page = query.persons
    if page.status == "reached":
        chosen = [p for p, depth, _, _ in reached if depth > page.step]
    else:
        chosen = [p for p, depth, _, _ in reached if depth == page.step]
    chosen.sort()
    rows = chosen[page.offset : page.offset + page.limit]
    more = page.offset + page.limit < len(chosen)
    return {"persons": rows, "count": len(chosen), "next_offset": page.offset + page.limit if more else None}
