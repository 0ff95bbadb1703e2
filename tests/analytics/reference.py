"""Plain, obviously-correct Python answers to analytics queries, to check the SQL against.

The data: `events`, a list of dicts {"timestamp" (aware), "uuid", "event", "distinct_id",
"properties"}, and `persons`, {distinct_id: (person id, person properties)} — the state after
every merge, which is what a query sees. Nothing here is clever: loops over every event.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal


def matches(f, properties: dict) -> bool:
    present = f.key in properties
    value = properties.get(f.key)
    if f.op == "is_set":
        return present
    if f.op == "is_not_set":
        return not present
    if f.op in ("eq", "ne"):
        equal = present and _same_json(value, f.value)
        return equal if f.op == "eq" else not equal
    if f.op in ("contains", "not_contains"):
        found = isinstance(value, str) and f.value in value
        return found if f.op == "contains" else not found
    if not _is_number(value):
        return False
    a, b = Decimal(repr(value)), Decimal(repr(f.value))
    return a > b if f.op == "gt" else a < b


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_json(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return Decimal(repr(a)) == Decimal(repr(b))
    return type(a) is type(b) and a == b


def passes(filters, event, persons) -> bool:
    person_props = persons[event["distinct_id"]][1]
    return all(matches(f, event["properties"] if f.type == "event" else person_props) for f in filters)


def as_text(value):
    """A property as SQL's ->> gives it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if not isinstance(value, str) else value


def in_range(event, rng, tz) -> bool:
    local = event["timestamp"].astimezone(tz).date()
    return rng.date_from <= local <= rng.date_to


def bucket_of(moment, interval, tz) -> datetime:
    local = moment.astimezone(tz).replace(tzinfo=None)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = datetime.combine(local.date(), time())
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def all_buckets(rng, interval, tz):
    """Every local hour's bucket from date_from to date_to, once each, in order."""
    seen = []
    moment = datetime.combine(rng.date_from, time())
    while moment.date() <= rng.date_to:
        b = bucket_of(moment.replace(tzinfo=tz), interval, tz) if interval != "hour" else moment
        if b not in seen:
            seen.append(b)
        moment += timedelta(hours=1)
    return seen


def _label(b, interval):
    return b.strftime("%Y-%m-%dT%H:00") if interval == "hour" else b.date().isoformat()


def _aggregate(events, math, prop, persons):
    if math == "total":
        return len(events)
    if math == "unique_persons":
        return len({persons[e["distinct_id"]][0] for e in events})
    numbers = [Decimal(repr(e["properties"][prop])) for e in events if _is_number(e["properties"].get(prop))]
    if math == "sum":
        return _number(sum(numbers, Decimal(0)))
    return _number(sum(numbers, Decimal(0)) / len(numbers)) if numbers else None


def _number(value: Decimal):
    if value == value.to_integral_value():
        return int(value)
    return float(round(value, 6))


def trends(query, events, persons, tz) -> dict:
    from apps.analytics.queries.common import filters_for

    labels = all_buckets(query.range, query.interval, tz)
    out = []
    for series in query.series:
        filters = filters_for(query.filters, query.exclude_test_accounts) + list(series.filters)

        def picked(rng, series=series, filters=filters):
            return [
                e for e in events if e["event"] == series.event and in_range(e, rng, tz) and passes(filters, e, persons)
            ]

        def value_of(e):
            props = e["properties"] if query.breakdown.type == "event" else persons[e["distinct_id"]][1]
            return as_text(props.get(query.breakdown.property))

        def series_values(chosen, rng, series=series):
            bucket_list = all_buckets(rng, query.interval, tz)
            return [
                _aggregate(
                    [e for e in chosen if bucket_of(e["timestamp"], query.interval, tz) == b],
                    series.math,
                    series.property,
                    persons,
                )
                for b in bucket_list
            ], bucket_list

        current = picked(query.range)
        previous = picked(query.range.previous()) if query.compare else None
        groups = [(None, lambda e: True)]
        if query.breakdown:
            counts = {}
            for e in current:
                counts[value_of(e)] = counts.get(value_of(e), 0) + 1
            ranked = sorted(counts, key=lambda v: (-counts[v], v is not None, (v or "").encode()))
            top = ranked[: query.breakdown.limit]
            groups = [(v, lambda e, v=v: value_of(e) == v) for v in top]
            if len(ranked) > len(top):
                groups.append(("$other", lambda e, top=top: value_of(e) not in top))
        for name, belongs in groups:
            values, _ = series_values([e for e in current if belongs(e)], query.range)
            item = {"event": series.event, "math": series.math, "values": values}
            if query.breakdown:
                item["breakdown_value"] = name
            if previous is not None:
                prev_values, prev_buckets = series_values([e for e in previous if belongs(e)], query.range.previous())
                item["previous"] = {"labels": [_label(b, query.interval) for b in prev_buckets], "values": prev_values}
            out.append(item)
    return {"labels": [_label(b, query.interval) for b in labels], "series": out}


def funnel(query, events, persons, tz, person_uuid) -> dict:
    """`person_uuid`: {person key: the uuid the database gave that person}."""
    import statistics

    from apps.analytics.queries.common import filters_for

    window = timedelta(seconds=query.window_seconds)
    kept = [e for e in events if passes(filters_for(query.filters, query.exclude_test_accounts), e, persons)]
    by_person = {}
    for e in sorted(kept, key=lambda e: (e["timestamp"], e["uuid"])):
        by_person.setdefault(persons[e["distinct_id"]][0], []).append(e)

    def step_matches(k, e):
        step = query.steps[k]
        return e["event"] == step.event and passes(step.filters, e, persons)

    def attempt(evs, first):
        """The events of the attempt entering at evs[first]."""
        chain, done = [evs[first]], {0}
        for e in evs[first + 1 :]:
            if e["timestamp"] - evs[first]["timestamp"] > window or len(chain) == len(query.steps):
                break
            if query.order == "any":
                for k in range(len(query.steps)):
                    if k not in done and step_matches(k, e):
                        done.add(k)
                        chain.append(e)
                        break
            elif step_matches(len(chain), e):
                chain.append(e)
            elif query.order == "strict":
                break
        return chain

    results = []  # (person uuid, chain, breakdown value)
    for key, evs in by_person.items():
        if query.order != "strict":
            evs = [e for e in evs if any(e["event"] == s.event for s in query.steps)]
        best = []
        for i, e in enumerate(evs):
            if step_matches(0, e) and in_range(e, query.range, tz):
                chain = attempt(evs, i)
                if len(chain) > len(best):
                    best = chain
        if best:
            value = None
            if query.breakdown:
                props = best[0]["properties"] if query.breakdown.type == "event" else persons[best[0]["distinct_id"]][1]
                value = as_text(props.get(query.breakdown.property))
            results.append((str(person_uuid[key]), best, value))

    def steps_of(group):
        out = []
        for k, step in enumerate(query.steps):
            done = [r for r in group if len(r[1]) > k]
            before = [r for r in group if len(r[1]) > k - 1] if k else done
            item = {
                "event": step.event,
                "count": len(done),
                "conversion_rate": round(len(done) / len(group), 6) if group else 0.0,
                "step_conversion_rate": round(len(done) / len(before), 6) if before else 0.0,
            }
            if k:
                secs = [(r[1][k]["timestamp"] - r[1][k - 1]["timestamp"]).total_seconds() for r in done]
                item["avg_seconds_from_previous"] = round(statistics.fmean(secs), 3) if secs else None
                item["median_seconds_from_previous"] = round(statistics.median(secs), 3) if secs else None
            out.append(item)
        return out

    if query.persons:
        page = query.persons
        if page.status == "reached":
            chosen = sorted(r[0] for r in results if len(r[1]) > page.step)
        else:
            chosen = sorted(r[0] for r in results if len(r[1]) == page.step)
        more = page.offset + page.limit < len(chosen)
        return {
            "persons": chosen[page.offset : page.offset + page.limit],
            "count": len(chosen),
            "next_offset": page.offset + page.limit if more else None,
        }
    answer = {"steps": steps_of(results)}
    if query.breakdown:
        counts = {}
        for r in results:
            counts[r[2]] = counts.get(r[2], 0) + 1
        ranked = sorted(counts, key=lambda v: (-counts[v], v is not None, (v or "").encode()))
        top = ranked[: query.breakdown.limit]
        answer["breakdown"] = [
            {"breakdown_value": v, "steps": steps_of([r for r in results if r[2] == v])} for v in top
        ]
        if len(ranked) > len(top):
            answer["breakdown"].append(
                {"breakdown_value": "$other", "steps": steps_of([r for r in results if r[2] not in top])}
            )
    return answer


def retention(query, events, persons, tz) -> dict:
    from apps.analytics.queries.common import filters_for

    filters = filters_for(query.filters, query.exclude_test_accounts)
    kept = [e for e in events if passes(filters, e, persons)]
    cohort_buckets = all_buckets(query.range, query.period, tz)

    def person(e):
        return persons[e["distinct_id"]][0]

    members = {b: set() for b in cohort_buckets}
    starts = [e for e in kept if e["event"] == query.start_event]
    if query.retention_type == "first_time":
        first = {}
        for e in starts:
            if person(e) not in first or e["timestamp"] < first[person(e)]:
                first[person(e)] = e["timestamp"]
        for p, at in first.items():
            if in_range({"timestamp": at}, query.range, tz):
                members[bucket_of(at, query.period, tz)].add(p)
    else:
        for e in starts:
            if in_range(e, query.range, tz):
                members[bucket_of(e["timestamp"], query.period, tz)].add(person(e))
    cohorts = []
    for b in cohort_buckets:
        later = all_buckets_after(b, query.period, query.periods)
        values = [len(members[b])]
        for n in range(1, query.periods):
            came_back = {
                person(e)
                for e in kept
                if e["event"] == query.return_event
                and bucket_of(e["timestamp"], query.period, tz) == later[n]
                and e["timestamp"] >= datetime.combine(query.range.date_from, time(), tzinfo=tz)
            }
            values.append(len(members[b] & came_back))
        cohorts.append({"label": _label(b, query.period), "persons": len(members[b]), "values": values})
    return {"cohorts": cohorts}


def all_buckets_after(b, period, count):
    """`b` and the `count` - 1 periods after it."""
    out = [b]
    while len(out) < count:
        last = out[-1]
        if period == "day":
            out.append(last + timedelta(days=1))
        elif period == "week":
            out.append(last + timedelta(days=7))
        else:
            out.append(datetime(last.year + last.month // 12, last.month % 12 + 1, 1))
    return out


def _active(query, events, persons, tz):
    """{person key: {local period start}} of the query's event, before the range's end."""
    from apps.analytics.queries.common import filters_for

    filters = filters_for(query.filters, query.exclude_test_accounts)
    active = {}
    for e in events:
        if e["event"] == query.event and e["timestamp"].astimezone(tz).date() <= query.range.date_to:
            if passes(filters, e, persons):
                active.setdefault(persons[e["distinct_id"]][0], set()).add(
                    bucket_of(e["timestamp"], query.interval, tz)
                )
    return active


def stickiness(query, events, persons, tz) -> dict:
    in_range_events = [e for e in events if in_range(e, query.range, tz)]
    active = _active(query, in_range_events, persons, tz)
    periods = len(all_buckets(query.range, query.interval, tz))
    values = [len([p for p, periods_ in active.items() if len(periods_) == n]) for n in range(1, periods + 1)]
    return {"labels": list(range(1, periods + 1)), "values": values}


def _previous(b, interval):
    if interval == "hour":
        return b - timedelta(hours=1)
    if interval == "day":
        return b - timedelta(days=1)
    if interval == "week":
        return b - timedelta(days=7)
    return datetime(b.year - (b.month == 1), (b.month - 2) % 12 + 1, 1)


def lifecycle(query, events, persons, tz) -> dict:
    active = _active(query, events, persons, tz)
    labels = all_buckets(query.range, query.interval, tz)
    out = {"new": [], "returning": [], "resurrecting": [], "dormant": []}
    for b in labels:
        prev = _previous(b, query.interval)
        counts = dict.fromkeys(out, 0)
        for periods in active.values():
            if b in periods:
                if min(periods) == b:
                    counts["new"] += 1
                elif prev in periods:
                    counts["returning"] += 1
                else:
                    counts["resurrecting"] += 1
            elif prev in periods:
                counts["dormant"] += 1
        for status, count in counts.items():
            out[status].append(count)
    return {"labels": [_label(b, query.interval) for b in labels], **out}


def paths(query, events, persons, tz) -> dict:
    """Paths: sessions split by gaps, one path per session from its first start event (or to its
    last end event), top `limit` transitions per step, as nodes and links."""
    from apps.analytics.queries.common import filters_for

    filters = filters_for(query.filters, query.exclude_test_accounts)
    kept = [
        e
        for e in events
        if in_range(e, query.range, tz) and e["event"] not in query.exclude_events and passes(filters, e, persons)
    ]
    by_person = {}
    for e in sorted(kept, key=lambda e: (e["timestamp"], e["uuid"])):
        by_person.setdefault(persons[e["distinct_id"]][0], []).append(e)
    walks = []  # each a list of event names from the anchor outwards
    for evs in by_person.values():
        sessions = []
        for e in evs:
            if sessions and (e["timestamp"] - sessions[-1][-1]["timestamp"]).total_seconds() <= query.session_seconds:
                sessions[-1].append(e)
            else:
                sessions.append([e])
        for session in sessions:
            names = [e["event"] for e in session]
            if query.start_event is not None:
                if query.start_event in names:
                    first = names.index(query.start_event)
                    walks.append(names[first : first + query.steps])
            elif query.end_event in names:
                last = len(names) - 1 - names[::-1].index(query.end_event)
                walks.append(names[max(0, last - query.steps + 1) : last + 1][::-1])
    # the top-`limit` transitions per step, step by step
    sign = -1 if query.start_event is None else 1
    nodes, links = {}, []
    for w in walks:
        nodes[(0, w[0])] = nodes.get((0, w[0]), 0) + 1
    going = walks
    for i in range(1, query.steps):
        counts = {}
        for w in going:
            if len(w) > i:
                counts[(w[i - 1], w[i])] = counts.get((w[i - 1], w[i]), 0) + 1
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: query.limit]
        chosen = [move for move, _ in ranked]
        going = [w for w in going if len(w) > i and (w[i - 1], w[i]) in chosen]
        for (before, after), n in ranked:
            nodes[(sign * i, after)] = nodes.get((sign * i, after), 0) + n
            earlier, later = (f"{sign * i}_{after}", f"{sign * (i - 1)}_{before}")
            if sign == 1:
                earlier, later = later, earlier
            links.append((min(sign * i, sign * (i - 1)), -n, earlier, later))
    return {
        "paths": len(walks),
        "nodes": [
            {"id": f"{step}_{event}", "step": step, "event": event, "count": n}
            for (step, event), n in sorted(nodes.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
        ],
        "links": [{"source": s, "target": t, "value": -n} for _, n, s, t in sorted(links)],
    }


def cohort_members(rule, events, persons, listed=()) -> set:
    """The person keys in a cohort: static, those with a distinct id in `listed`; by rules, those
    whose properties pass its filters and who did each behaviour's event at least min_count
    times since its `since`."""
    keys = {key for key, _ in persons.values()}
    if rule.static:
        return {persons[d][0] for d in listed if d in persons}
    props = {key: p for key, p in persons.values()}
    members = set()
    for key in keys:
        if not all(matches(f, props[key]) for f in rule.filters):
            continue
        done = True
        for b in rule.behaviours:
            n = len(
                [
                    e
                    for e in events
                    if persons[e["distinct_id"]][0] == key and e["event"] == b.event and e["timestamp"] >= b.since
                ]
            )
            done = done and n >= b.min_count
        if done:
            members.add(key)
    return members
