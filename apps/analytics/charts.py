"""An insight's answer as a chart (static/hub/charts.js's JSON) and the same numbers as a table.

`present(query, result)` → {"chart": spec, "head": [column words], "rows": [[cells]], "total": n,
"words": what the chart shows}; the table's first cell of each row is its heading."""

from .builder import MATH_WORDS


def _series_label(series: dict) -> str:
    label = series.get("event", "")
    math = series.get("math", "total")
    if math != "total":
        label += f" · {MATH_WORDS.get(math, math).lower()}"
        if series.get("property"):
            label += f" of {series['property']}"
    if "breakdown_value" in series:
        value = series["breakdown_value"]
        label += " · " + ("(none)" if value is None else "other values" if value == "$other" else str(value))
    return label


def _percent(value) -> str:
    return f"{value * 100:.1f} %"


def trends(query: dict, result: dict) -> dict:
    labels = result.get("labels", [])
    datasets, head = [], ["Period"]
    for series in result.get("series", []):
        label = _series_label(series)
        datasets.append({"label": label, "data": series.get("values", [])})
        head.append(label)
        if "previous" in series:
            datasets.append(
                {"label": f"{label} (previous period)", "data": series["previous"].get("values", []), "dashed": True}
            )
            head.append(f"{label} (previous period)")
    rows = [
        [label, *[d["data"][i] if i < len(d["data"]) else None for d in datasets]] for i, label in enumerate(labels)
    ]
    total = sum(v for d in datasets if not d.get("dashed") for v in d["data"] if isinstance(v, int | float))
    return {
        "chart": {"type": "line", "labels": labels, "datasets": datasets},
        "head": head,
        "rows": rows,
        "total": total,
        "words": f"Line chart of {', '.join(h for h in head[1:]) or 'no series'} per {query.get('interval', 'day')}",
    }


def funnel(query: dict, result: dict) -> dict:
    steps = result.get("steps", [])
    labels = [f"{i + 1}. {s.get('event', '')}" for i, s in enumerate(steps)]
    datasets = [{"label": "Persons", "data": [s.get("count", 0) for s in steps]}]
    for group in result.get("breakdown", [])[:5]:
        value = group.get("breakdown_value")
        name = "(none)" if value is None else "other values" if value == "$other" else str(value)
        datasets.append({"label": name, "data": [s.get("count", 0) for s in group.get("steps", [])]})
    head = ["Step", "Persons", "Of those who entered", "Of the step before", "Median time from the step before"]
    rows = []
    for label, s in zip(labels, steps, strict=False):
        median = s.get("median_seconds_from_previous")
        rows.append(
            [
                label,
                s.get("count", 0),
                _percent(s.get("conversion_rate", 0)),
                _percent(s.get("step_conversion_rate", 0)),
                _duration(median) if median is not None else "—",
            ]
        )
    return {
        "chart": {"type": "bar", "labels": labels, "datasets": datasets},
        "head": head,
        "rows": rows,
        "total": steps[0].get("count", 0) if steps else 0,
        "words": "Bar chart of the persons reaching each step of the funnel",
    }


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def retention(query: dict, result: dict) -> dict:
    cohorts = result.get("cohorts", [])
    periods = max((len(c.get("values", [])) for c in cohorts), default=0)
    period = query.get("period", "day")
    head = ["Cohort", "Persons", *[f"{period.title()} {n}" for n in range(periods)]]
    rows = []
    for c in cohorts:
        size = c.get("persons", 0)
        cells = [f"{v} ({v * 100 / size:.0f} %)" if size else "0" for v in c.get("values", [])]
        rows.append([c.get("label", ""), size, *cells])
    # The chart: the share of all cohorts together still coming back after n periods.
    means = []
    for n in range(periods):
        sizes = [c["persons"] for c in cohorts if len(c.get("values", [])) > n and c.get("persons")]
        back = [c["values"][n] for c in cohorts if len(c.get("values", [])) > n and c.get("persons")]
        means.append(round(sum(back) * 100 / sum(sizes), 1) if sum(sizes) else 0)
    return {
        "chart": {
            "type": "line",
            "labels": [f"{period.title()} {n}" for n in range(periods)],
            "datasets": [{"label": "Coming back (% of the cohorts)", "data": means}],
        },
        "head": head,
        "rows": rows,
        "total": sum(c.get("persons", 0) for c in cohorts),
        "words": f"Line chart of the share of persons coming back per {period}",
    }


def stickiness(query: dict, result: dict) -> dict:
    interval = query.get("interval", "day")
    labels = [f"{n} {interval}{'s' if n != 1 else ''}" for n in result.get("labels", [])]
    values = result.get("values", [])
    return {
        "chart": {"type": "bar", "labels": labels, "datasets": [{"label": "Persons", "data": values}]},
        "head": [f"Active on (of the {interval}s)", "Persons"],
        "rows": [[label, v] for label, v in zip(labels, values, strict=False)],
        "total": sum(values),
        "words": f"Bar chart of how many persons were active on 1, 2, 3 … {interval}s",
    }


LIFECYCLE = (("new", "New"), ("returning", "Returning"), ("resurrecting", "Resurrecting"), ("dormant", "Dormant"))


def lifecycle(query: dict, result: dict) -> dict:
    labels = result.get("labels", [])
    datasets = []
    for key, word in LIFECYCLE:
        values = result.get(key, [])
        datasets.append({"label": word, "data": [-v for v in values] if key == "dormant" else values})
    rows = [[label, *[abs(d["data"][i]) for d in datasets]] for i, label in enumerate(labels)]
    return {
        "chart": {"type": "bar", "stacked": True, "labels": labels, "datasets": datasets},
        "head": ["Period", *[w for _, w in LIFECYCLE]],
        "rows": rows,
        "total": sum(abs(v) for d in datasets for v in d["data"]),
        "words": "Stacked bar chart of new, returning and resurrecting persons per period, dormant ones below the axis",
    }


PRESENTERS = {
    "trends": trends,
    "funnel": funnel,
    "retention": retention,
    "stickiness": stickiness,
    "lifecycle": lifecycle,
}


def present(query: dict, result: dict) -> dict:
    return PRESENTERS.get(query.get("kind"), trends)(query, result)
