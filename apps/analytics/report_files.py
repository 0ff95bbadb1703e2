"""Turning insights' answers into files: tables (rows and columns), SVG charts, CSV, Excel, PDF.

Pure functions over query answers: no database, no storage. `sections` are
[{"name", "kind", "headers", "rows", "chart"}], one per insight; `chart` is an SVG string (or "")
drawn here, so the PDF needs no browser (WeasyPrint draws inline SVG).
"""

import csv
import io
from html import escape

# The kit's chart palette (static/hub/hub.css --chart-1 … --chart-6, light theme).
COLOURS = ["#4f46e5", "#0891b2", "#16a34a", "#ea580c", "#db2777", "#7c3aed"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _series_name(line: dict) -> str:
    name = f"{line.get('event', '')} ({line.get('math', 'total')})"
    if "breakdown_value" in line:
        name += f" — {line['breakdown_value'] if line['breakdown_value'] is not None else '(none)'}"
    return name


def result_table(kind: str, result: dict) -> tuple[list[str], list[list]]:
    """An answer of any kind as a header row and rows of plain values."""
    if kind == "trends":
        headers = ["Series", *result.get("labels", [])]
        return headers, [[_series_name(line), *line.get("values", [])] for line in result.get("series", [])]
    if kind == "funnel" and "steps" in result:
        headers = ["Step", "Event", "Persons", "Conversion", "From previous step", "Average seconds from previous"]
        rows = [
            [
                n + 1,
                step["event"],
                step["count"],
                step["conversion_rate"],
                step["step_conversion_rate"],
                step.get("avg_seconds_from_previous"),
            ]
            for n, step in enumerate(result["steps"])
        ]
        return headers, rows
    if kind == "retention":
        cohorts = result.get("cohorts", [])
        width = max((len(c["values"]) for c in cohorts), default=1)
        headers = ["Cohort", "Persons", *(f"Period {n}" for n in range(width))]
        return headers, [[c["label"], c["persons"], *c["values"]] for c in cohorts]
    if kind == "stickiness":
        return ["Periods active", "Persons"], [
            list(pair) for pair in zip(result["labels"], result["values"], strict=False)
        ]
    if kind == "lifecycle":
        statuses = ("new", "returning", "resurrecting", "dormant")
        return ["Status", *result["labels"]], [[status.capitalize(), *result[status]] for status in statuses]
    # A kind this module does not know yet (paths, …): its answer's top-level values.
    return ["Field", "Value"], [[key, str(value)] for key, value in result.items()]


def _bars(labels: list, datasets: list[tuple[str, list]], *, width=640, height=220) -> str:
    """Grouped bars: one group per label, one bar per dataset. Negative values are drawn as 0."""
    return _chart(labels, datasets, width=width, height=height, lines=False)


def _lines(labels: list, datasets: list[tuple[str, list]], *, width=640, height=220) -> str:
    return _chart(labels, datasets, width=width, height=height, lines=True)


def _chart(labels, datasets, *, width, height, lines: bool) -> str:
    left, bottom, top, legend = 48, 28, 8, 16 * len(datasets)
    plot_w, plot_h = width - left - 8, height - bottom - top - legend
    values = [v for _, data in datasets for v in data if isinstance(v, int | float)]
    peak = max([*values, 0]) or 1
    n = max(len(labels), 1)
    step = plot_w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="9">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#94a3b8"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{escape(_number(peak))}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    every = max(1, n // 12)  # at most ~12 labels under the axis
    for i, label in enumerate(labels):
        if i % every == 0:
            x = left + step * i + step / 2
            parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{escape(str(label))}</text>')
    for d, (name, data) in enumerate(datasets):
        colour = COLOURS[d % len(COLOURS)]
        points = []
        for i, value in enumerate(data):
            v = max(value, 0) if isinstance(value, int | float) else 0
            y = top + plot_h - plot_h * v / peak
            if lines:
                points.append(f"{left + step * i + step / 2:.1f},{y:.1f}")
            else:
                bar_w = step * 0.8 / len(datasets)
                x = left + step * i + step * 0.1 + bar_w * d
                bar_h = top + plot_h - y
                rect = f'x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}"'
                parts.append(f'<rect {rect} fill="{colour}"/>')
        if lines and points:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>')
        y = height - legend + 16 * d + 10
        parts.append(f'<rect x="{left}" y="{y - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + 14}" y="{y}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _number(value) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def result_chart(kind: str, result: dict) -> str:
    """An SVG chart of the answer ("" for kinds drawn as a table only, e.g. retention)."""
    if kind == "trends" and result.get("series"):
        datasets = [(_series_name(line), line.get("values", [])) for line in result["series"][:6]]
        return _lines(result["labels"], datasets)
    if kind == "funnel" and result.get("steps"):
        return _bars([s["event"] for s in result["steps"]], [("Persons", [s["count"] for s in result["steps"]])])
    if kind == "stickiness" and result.get("labels"):
        return _bars(result["labels"], [("Persons", result["values"])])
    if kind == "lifecycle" and result.get("labels"):
        datasets = [(s.capitalize(), result[s]) for s in ("new", "returning", "resurrecting", "dormant")]
        return _bars(result["labels"], datasets)
    return ""


def _cell(value):
    """A value as a spreadsheet reads it safely: text that would run as a formula gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def sections_csv(sections: list[dict]) -> bytes:
    """One CSV (UTF-8 with a BOM, for Excel): each insight's name, then its table, a blank line."""
    out = io.StringIO()
    writer = csv.writer(out)
    for n, section in enumerate(sections):
        if n:
            writer.writerow([])
        writer.writerow([_cell(section["name"])])
        writer.writerow([_cell(h) for h in section["headers"]])
        writer.writerows([[_cell(v) for v in row] for row in section["rows"]])
    return ("\ufeff" + out.getvalue()).encode()


def sections_xlsx(sections: list[dict]) -> bytes:
    """One worksheet per insight (openpyxl), its header row in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for n, section in enumerate(sections):
        title = _sheet_title(section["name"], n, used)
        sheet = book.create_sheet(title)
        sheet.append([_cell(h) for h in section["headers"]])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in section["rows"]:
            sheet.append([_cell(v) for v in row])
        sheet.freeze_panes = "B2"
    if not sections:
        book.create_sheet("Report")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(name: str, n: int, used: set[str]) -> str:
    # A sheet's title: at most 31 characters, none of []:*?/\ , unique in the book.
    clean = "".join(" " if c in "[]:*?/\\" else c for c in name).strip()[:28] or "Insight"
    title = clean if clean not in used else f"{clean[:25]} ({n + 1})"
    used.add(title)
    return title


def sections_pdf(*, title: str, subtitle: str, sections: list[dict]) -> bytes:
    """A PDF (WeasyPrint) of the sections: each insight's chart, then its table."""
    from django.template.loader import render_to_string
    from weasyprint import HTML

    html = render_to_string("analytics/report_pdf.html", {"title": title, "subtitle": subtitle, "sections": sections})
    return HTML(string=html).write_pdf()
