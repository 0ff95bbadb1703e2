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

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from django.db import connection, transaction

from .. import storage
from . import common
from .shapes import FunnelQuery

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _named(query: FunnelQuery, name: str) -> list[tuple]:
    """The steps (index, step) of the event `name`."""
    return [(i, step) for i, step in enumerate(query.steps) if step.event == name]


def _bits(steps, end, *, past_end: bool) -> tuple[str, list]:
    """The bits of `steps` (index, step) an event `e` matches, as SQL: an OR of CASEs, or one
    number when no step needs a test. Step 0 tests that the event is before the range's end
    (`end`) when the events are read `past_end`; read only up to it, they all are."""
    parts, params = [], []
    for i, step in steps:
        conditions, condition_params = common.where(step.filters)
        if i == 0 and past_end:
            conditions, condition_params = ' AND e."timestamp" < %s' + conditions, [end, *condition_params]
        parts.append(f"CASE WHEN true{conditions} THEN {1 << i} ELSE 0 END" if conditions else str(1 << i))
        params += condition_params
    if all(part.isdigit() for part in parts):
        return str(sum(int(part) for part in parts)), params
    return " | ".join(parts), params


def _picked(query: FunnelQuery, tz: ZoneInfo, *, person_uuid: bool = True, on_events: bool = False) -> tuple[str, list]:
    """The events that matter, one row each: person_id, uuid (the person's; NULL unless
    `person_uuid`), ts, eu (the event's uuid), micros (ts in microseconds since 1970), mask (the
    steps it matches, as bits), bd (its breakdown value). The person's row is joined only when
    the uuid or a person property is wanted. With `on_events` (see persons_on_events), person_id
    is the one the event was written with, read with the event and not joined: the caller maps
    it through the person overrides.

    Step 0's bit is set only on events before the range's end: later ones cannot be entries, and
    no walk reads bit 0 past the entry. So, unless the funnel is strict (which reads every
    event), each step's event is read on its own (UNION ALL), step 0's from the range only, the
    later steps' from the range and the window after it: index-only scans of (event,
    "timestamp") INCLUDE (distinct_id, uuid) when no filter reads the event's properties."""
    start, end = common.bounds(query.range, tz)
    # In elapsed time, as the walks count the window: an aware datetime plus a timedelta moves the
    # wall clock, an hour off across a DST change.
    window_end = end.astimezone(UTC) + timedelta(seconds=query.window_seconds)
    extra, params = common.where(common.filters_for(query.filters, query.exclude_test_accounts))
    names = list(dict.fromkeys(s.event for s in query.steps))

    later = {s.event for s in query.steps[1:]}
    if query.order == "strict":
        # every event of the window; the name decides with the rest
        masks, mask_params = [], []
        for i, step in enumerate(query.steps):
            bits, bit_params = _bits([(i, step)], end, past_end=True)
            masks.append(f"CASE WHEN e.event = %s THEN {bits} ELSE 0 END")
            mask_params += [step.event, *bit_params]
        mask = " | ".join(masks)
    else:
        # one part per name (below), tagged `b`: its steps' bits, no text compared per event
        cases, mask_params = [], []
        for b, name in enumerate(names):
            bits, bit_params = _bits(_named(query, name), end, past_end=name in later)
            cases.append(f"WHEN {b} THEN {bits}")
            mask_params += bit_params
        mask = f"CASE e.b {' '.join(cases)} END"
    breakdown, breakdown_params = "NULL::text", []
    if query.breakdown:
        breakdown, breakdown_params = common.property_text(query.breakdown.type), [query.breakdown.property]
    columns = 'e."timestamp", e.uuid, e.event, e.distinct_id' + (", e.person_id" if on_events else "")
    if "e.properties" in mask + breakdown + extra:
        columns += ", e.properties"
    if query.order == "strict":
        parts = [f'SELECT {columns} FROM analytics_event e WHERE e."timestamp" >= %s AND e."timestamp" < %s']
        part_params = [start, window_end]
    else:
        parts, part_params = [], []
        for b, name in enumerate(names):
            parts.append(
                f'SELECT {columns}, {b} AS b FROM analytics_event e WHERE e.event = %s AND e."timestamp" >= %s '
                'AND e."timestamp" < %s'
            )
            part_params += [name, start, window_end if name in later else end]
    persons = person_uuid or "p.properties" in mask + breakdown + extra
    joined = "JOIN analytics_persondistinctid pdi ON pdi.distinct_id = e.distinct_id"
    if persons:
        joined += " JOIN analytics_person p ON p.id = pdi.person_id"
    if on_events:
        joined = ""
    sql = f"""
        SELECT {"e" if on_events else "pdi"}.person_id, {"p.uuid" if person_uuid else "NULL::uuid"} AS uuid,
               e."timestamp" AS ts, e.uuid AS eu,
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


# The events that matter as one bytea, 16 bytes an event, big-endian as PostgreSQL sends them:
# person id and step mask in one int8 (person_id << 10 | mask: up to 10 steps; one send and one
# concatenation fewer an event, a fifth of the statement's CPU here), time (timestamptz: int8
# microseconds since 2000-01-01 UTC); and, only when two events of a person share a microsecond,
# the event's uuid (two halves) too.
_ROW = np.dtype([("pm", ">i8"), ("t", ">i8")])
_ROW_UUID = np.dtype([("pm", ">i8"), ("t", ">i8"), ("u1", ">u8"), ("u2", ">u8")])
_MASK_BITS = 10
_Y2K_MICROS = 946_684_800_000_000
# The person overrides (merged person id, survivor's id) as one bytea, 16 bytes a pair.
_OVERRIDE = np.dtype([("old", ">i8"), ("new", ">i8")])
_OVERRIDES_SQL = (
    f"SELECT string_agg(int8send(old_person_id) || int8send(override_person_id), ''::bytea) FROM {storage.OVERRIDES}"
)


def _fetch_binary(sql: str, params: list) -> tuple:
    """The one row `sql` selects, read in binary (Django's cursors bind on the client and read
    text: a bytea would come as hex, twice the bytes, then decoded); NULLs as b""."""
    with transaction.atomic(), connection.cursor() as django_cursor:  # the tenant's search_path
        django_cursor.execute(
            "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [common.WORK_MEM]
        )
        with psycopg.Cursor(django_cursor.cursor.connection) as cursor:  # binds on the server
            cursor.execute(sql, params, binary=True)
            return tuple(value or b"" for value in cursor.fetchone())


def persons_on_events(query: FunnelQuery, tz: ZoneInfo) -> bool:
    """Whether the events' own person ids serve the funnel (storage.py, "Persons on events"): no
    filter reads the person (properties, cohorts), and every event of the range and window has
    its person written (those stored before the column are filled by the backfill)."""
    extra, _ = common.where(common.filters_for(query.filters, query.exclude_test_accounts))
    extra += "".join(common.where(step.filters)[0] for step in query.steps)
    if "pdi." in extra or "p.properties" in extra:
        return False
    start, end = common.bounds(query.range, tz)
    return not storage.person_ids_missing(start, end.astimezone(UTC) + timedelta(seconds=query.window_seconds))


def _overridden(person: np.ndarray, overrides: bytes) -> np.ndarray:
    """`person` (ids as the events were written) mapped through the person overrides (pairs as
    _OVERRIDES_SQL sends them): each merged person's id becomes the survivor's (the table is
    kept flat: one lookup). Through a table indexed by id when the ids span little (one gather),
    else a binary search in the sorted overrides."""
    pairs = np.frombuffer(overrides, dtype=_OVERRIDE)
    if not len(pairs) or not len(person):
        return person
    old, new = pairs["old"].astype(np.int64), pairs["new"].astype(np.int64)
    low, high = int(person.min()), int(person.max())
    if high - low <= 4 * len(person) + 1_000_000:
        lookup = np.arange(low, high + 1, dtype=np.int64)
        inside = (old >= low) & (old <= high)
        lookup[old[inside] - low] = new[inside]
        return lookup[person - low]
    order = np.argsort(old)
    old, new = old[order], new[order]
    at = np.minimum(np.searchsorted(old, person), len(old) - 1)
    return np.where(old[at] == person, new[at], person)


def _by_person_and_time(person: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The order that sorts the events by person, then time (ties next to each other, in any
    order): one sort of a key made of both when it fits in an int64, else a two-key lexsort."""
    if not len(person):
        return np.arange(0)
    first_person, first_at = person.min(), at.min()
    at_bits = int(at.max() - first_at).bit_length()
    if int(person.max() - first_person).bit_length() + at_bits <= 62:
        return np.argsort(((person - first_person) << at_bits) | (at - first_at))
    return np.lexsort((at, person))


def _first_of_most(person: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """The positions of, for each person (`person` sorted), their first item of the greatest
    `depth`, by person."""
    if not len(person):
        return np.arange(0)
    new = np.empty(len(person), dtype=bool)
    new[0], new[1:] = True, person[1:] != person[:-1]
    group = np.cumsum(new) - 1
    most = np.maximum.reduceat(depth, np.flatnonzero(new))
    best = np.flatnonzero(depth == most[group])
    return best[np.flatnonzero(np.diff(group[best], prepend=-1))]


def _walk_rows(query: FunnelQuery, tz: ZoneInfo) -> tuple[str, list]:
    """ordered_walked()'s events with their own persons, as one bytea of _ROW rows: _picked()'s
    events without its outer query (no join to project through), each event name's part sending
    its own rows. A part whose step bits need no test (_bits() gives a number) packs a constant
    mask: a quarter less server time than projecting every row through _picked() here (with the
    same answer)."""
    start, end = common.bounds(query.range, tz)
    window_end = end.astimezone(UTC) + timedelta(seconds=query.window_seconds)
    extra, extra_params = common.where(common.filters_for(query.filters, query.exclude_test_accounts))
    later = {s.event for s in query.steps[1:]}
    parts, params = [], []
    for name in dict.fromkeys(s.event for s in query.steps):
        bits, bit_params = _bits(_named(query, name), end, past_end=name in later)
        read = 'FROM analytics_event e WHERE e.event = %s AND e."timestamp" >= %s AND e."timestamp" < %s' + extra
        read_params = [name, start, window_end if name in later else end, *extra_params]
        if bits.isdigit():
            parts.append(
                f'SELECT int8send(e.person_id << {_MASK_BITS} | {bits}) || timestamptz_send(e."timestamp") AS r {read}'
            )
            params += read_params
        else:
            parts.append(
                f"SELECT int8send(person_id << {_MASK_BITS} | mask) || timestamptz_send(ts) AS r FROM ("
                f'SELECT e.person_id, e."timestamp" AS ts, ({bits}) AS mask {read}) AS e WHERE mask <> 0'
            )
            params += [*bit_params, *read_params]
    return f"SELECT string_agg(r, ''::bytea) FROM ({' UNION ALL '.join(parts)}) AS parts", params


def ordered_walked(query: FunnelQuery, *, tz: ZoneInfo, on_events: bool | None = None) -> list[tuple]:
    """ordered_reached() for a funnel without breakdown or persons page, walked with numpy: the
    events that matter come in one bytea (two integers an event: no row or value for the
    driver to make, no sort in PostgreSQL), are sorted by person, time and uuid here, and each
    step's "next event of step k after this one" is one reversed running minimum over all rows.
    The chain from an entry follows those pointers (the same greedy chain as walk()), cut at the
    window and at the person's last event; each person keeps their earliest entry of the
    greatest depth. (depths, [step k's times]): arrays of one item a person who entered, by
    person id; a time past the person's depth means nothing.

    The person of each event is the one it was written with, mapped through the overrides (read
    by the same statement), when persons_on_events() says so (`on_events`: force either way):
    straight from the covering index, no join; else the join through the distinct ids."""
    if on_events is None:
        on_events = persons_on_events(query, tz)
    picked, params = _picked(query, tz, person_uuid=False, on_events=on_events)
    row = f"int8send(person_id << {_MASK_BITS} | mask) || timestamptz_send(ts)"
    if on_events:
        events, first_params = _walk_rows(query, tz)
    else:
        events, first_params = f"SELECT string_agg({row}, ''::bytea) FROM ({picked}) AS picked WHERE mask <> 0", params
    data, overrides = _fetch_binary(f"SELECT ({events}), ({_OVERRIDES_SQL if on_events else 'NULL'})", first_params)
    rows = np.frombuffer(data, dtype=_ROW)
    person_mask, at = rows["pm"].astype(np.int64), rows["t"].astype(np.int64)
    person = _overridden(person_mask >> _MASK_BITS, overrides)
    order = _by_person_and_time(person, at)
    if ((np.diff(person[order]) == 0) & (np.diff(at[order]) == 0)).any():
        # events of one person at the same microsecond: their uuids decide, as in SQL (rare: read again)
        events = f"SELECT string_agg({row} || uuid_send(eu), ''::bytea) FROM ({picked}) AS picked WHERE mask <> 0"
        rows = np.frombuffer(_fetch_binary(events, params)[0], dtype=_ROW_UUID)
        person_mask, at = rows["pm"].astype(np.int64), rows["t"].astype(np.int64)
        person = _overridden(person_mask >> _MASK_BITS, overrides)
        order = np.lexsort((rows["u2"], rows["u1"], at, person))
    person, at, mask = person[order], at[order] + _Y2K_MICROS, (person_mask & ((1 << _MASK_BITS) - 1))[order]
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
    firsts = _first_of_most(person[entries], depth)
    return depth[firsts], [t[firsts] for t in times]


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


def funnel(query: FunnelQuery, *, tz: ZoneInfo, persons_events=None, method: str = "auto") -> dict:
    """The funnel's answer; `persons_events` fetches the rows (default: funnel_persons_events, the
    ClickHouse store passes its own of the same shape). `method`, for an ordered funnel without
    breakdown or persons page on PostgreSQL (to compare, in tests and benchmarks): "auto" the
    numpy walk with the events' own persons where they serve (persons_on_events), "join" the
    numpy walk with persons joined through the distinct ids, "sql" the walk in SQL."""
    entry_end = _micros(common.bounds(query.range, tz)[1])
    window = query.window_seconds * 1_000_000
    steps = len(query.steps)
    reached = []  # (person uuid, depth, times, breakdown value)
    # PostgreSQL walks ordered funnels in SQL (ordered_reached); the other orders, and a store
    # that brings its own rows (ClickHouse), are walked here.
    in_sql = persons_events is None and query.order == "ordered"
    if in_sql and not query.breakdown and not query.persons and method != "sql":
        on_events = False if method == "join" else None
        return {"steps": _steps_of(query, *ordered_walked(query, tz=tz, on_events=on_events))}
    if in_sql:
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
    depths = np.array([item[1] for item in reached], dtype=np.int64)
    times = [
        np.array([item[2][k] if item[1] > k else 0 for item in reached], dtype=np.int64)
        for k in range(len(query.steps))
    ]
    return _steps_of(query, depths, times)


def _steps_of(query: FunnelQuery, depths, times) -> list[dict]:
    """Each step's persons, rates and times from the previous, of the persons who entered:
    `depths` (the steps each reached) and `times[k]` (each one's time of step k, in microseconds),
    numpy arrays. The averages and medians are those of statistics.fmean and .median."""
    entered = len(depths)
    out = []
    for k, step in enumerate(query.steps):
        reached = depths > k
        count = int(reached.sum())
        before = int((depths > k - 1).sum()) if k else count
        item = {
            "event": step.event,
            "count": count,
            "conversion_rate": _rate(count, entered),
            "step_conversion_rate": _rate(count, before),
        }
        if k:
            # int64 to float64 is exact below 2**53 microseconds, so each is (t_k - t_k-1) / 10**6 as Python's
            seconds = np.sort((times[k][reached] - times[k - 1][reached]) / 1_000_000).tolist()
            item["avg_seconds_from_previous"] = round(math.fsum(seconds) / len(seconds), 3) if seconds else None
            item["median_seconds_from_previous"] = round(_median_sorted(seconds), 3) if seconds else None
        out.append(item)
    return out


def _median_sorted(values: list[float]) -> float:
    """statistics.median of sorted `values`."""
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


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
