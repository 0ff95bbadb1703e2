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

from . import common
from .shapes import FunnelQuery

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _picked(query: FunnelQuery, tz: ZoneInfo, *, person_uuid: bool = True) -> tuple[str, list]:
    """The events that matter, one row each: person_id, uuid (the person's; NULL unless
    `person_uuid`), ts, eu (the event's uuid), micros (ts in microseconds since 1970), mask (the
    steps it matches, as bits), bd (its breakdown value). The person's row is joined only when
    the uuid or a person property is wanted."""
    start, end = common.bounds(query.range, tz)
    extra, params = common.where(common.filters_for(query.filters, query.exclude_test_accounts))
    masks, mask_params = [], []
    for i, step in enumerate(query.steps):
        step_where, step_params = common.where(step.filters)
        masks.append(f"CASE WHEN e.event = %s{step_where} THEN {1 << i} ELSE 0 END")
        mask_params += [step.event, *step_params]
    mask = " | ".join(masks)
    names = "" if query.order == "strict" else " AND e.event = ANY(%s)"
    name_params = [] if query.order == "strict" else [[s.event for s in query.steps]]
    breakdown, breakdown_params = "NULL::text", []
    if query.breakdown:
        breakdown, breakdown_params = common.property_text(query.breakdown.type), [query.breakdown.property]
    persons = person_uuid or "p.properties" in mask + breakdown + extra
    sql = f"""
        SELECT pdi.person_id, {"p.uuid" if person_uuid else "NULL::uuid"} AS uuid, e."timestamp" AS ts, e.uuid AS eu,
               (extract(epoch FROM e."timestamp") * 1000000)::bigint AS micros, ({mask}) AS mask, {breakdown} AS bd
        FROM {common.EVENTS_WITH_PERSONS if persons else common.EVENTS_WITH_DISTINCT_IDS}
        WHERE e."timestamp" >= %s AND e."timestamp" < %s{names}{extra}
    """
    window_end = end + timedelta(seconds=query.window_seconds)
    return sql, [*mask_params, *breakdown_params, start, window_end, *name_params, *params]


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
        HAVING bool_or(mask & 1 = 1 AND ts < %s)
        ORDER BY person_id
    """
    return common.fetch(sql, [*params, query.order == "strict", common.bounds(query.range, tz)[1]])


def ordered_reached(query: FunnelQuery, *, tz: ZoneInfo) -> list[tuple]:
    """An ordered funnel's persons, walked in SQL: [(person uuid, depth, [step times], breakdown
    value)] for each person who entered, as funnel() builds them from walk().

    Each event gets its position in its person's events (by time, then uuid) and, for each step
    k > 0, the position of the person's next event matching step k (a running min over the later
    events: PostgreSQL adds rows to the frame, never takes them out). An entry's chain follows
    those pointers (step 1 after the entry, step 2 after that step-1 event, …) while within the
    window: the greedy chain, which walk() takes too. Each person keeps their earliest entry of
    the greatest depth."""
    picked, params = _picked(query, tz, person_uuid=False)
    steps = len(query.steps)
    entry_end = _micros(common.bounds(query.range, tz)[1])
    window = query.window_seconds * 1_000_000
    nexts = ", ".join(f"min(pos) FILTER (WHERE mask & {1 << k} <> 0) OVER later AS n{k}" for k in range(1, steps))
    joins, times = [], ["e.micros"]
    previous = "e"
    for k in range(1, steps):
        joins.append(
            f"LEFT JOIN (SELECT * FROM nx WHERE mask & {1 << k} <> 0) s{k} ON s{k}.person_id = e.person_id "
            f"AND s{k}.pos = {previous}.n{k} AND s{k}.micros <= e.micros + {window}"
        )
        times.append(f"s{k}.micros")
        previous = f"s{k}"
    depth = " + ".join(["1"] + [f"(s{k}.pos IS NOT NULL)::int" for k in range(1, steps)])
    sql = f"""
        WITH ev AS (
            SELECT person_id, micros, mask, bd, row_number() OVER (PARTITION BY person_id ORDER BY ts, eu) AS pos
            FROM ({picked}) AS picked WHERE mask <> 0
        ), nx AS MATERIALIZED (
            SELECT person_id, micros, mask, bd, pos, {nexts} FROM ev
            WINDOW later AS (PARTITION BY person_id ORDER BY pos DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        ), chains AS (
            SELECT e.person_id, e.pos, e.bd, {depth} AS depth, ARRAY[{", ".join(times)}] AS times
            FROM nx e {" ".join(joins)}
            WHERE e.mask & 1 <> 0 AND e.micros < %s
        )
        SELECT p.uuid::text, best.depth, best.times[1:best.depth], best.bd
        FROM (SELECT DISTINCT ON (person_id) * FROM chains ORDER BY person_id, depth DESC, pos) AS best
        JOIN analytics_person p ON p.id = best.person_id
        ORDER BY best.person_id
    """
    return common.fetch_big(sql, [*params, entry_end])


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
