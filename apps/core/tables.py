"""The dashboards' data tables: one base every list in the hub is built from.

A list is a django-tables2 table (columns, sorting, paging) with a django-filter FilterSet (its
filters) and a `q` search box over `search_fields`, all server-side and in the URL's query string,
so a page works with plain links and GET forms and, with htmx, swaps only the table:

    class MembersTable(DataTable):
        email = tables.Column(accessor="user__email", verbose_name="Email")
        search_fields = ("user__email", "user__full_name")
        filterset_class = MemberFilter
        export_name = "members"

    def members(request):
        table = data_table(request, MembersTable, member_list(tenant=request.tenant))
        if table.response:  # ?_export=csv, or htmx asking for this table only
            return table.response
        return render(request, "identity/members.html", {"table": table})

and in the page's template `{% include "core/table.html" %}` (with `table=…` for another name).
Several tables on one page each take a `prefix` ("inv-"): their parameters are then `inv-q`,
`inv-sort`, `inv-page`, `inv-_export` and the filter fields `inv-<name>`.

`?_export=csv` streams the filtered, sorted rows (every page, at most EXPORT_LIMIT of them) as CSV,
from the values tables2 exports (a column's `value_<name>`, `exclude_from_export`).
"""

import csv
import html
import operator
from collections.abc import Iterable
from functools import reduce
from itertools import islice

import django_tables2 as tables
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeData
from django.utils.text import slugify
from django_tables2 import RequestConfig

from .templatetags.hub import badge  # noqa: F401  (the tables' badges are the kit's)
from .templatetags.hub import time as time_tag

PER_PAGE = 25
EXPORT_LIMIT = 10_000
SEARCH_MAX = 200
TEMPLATE = "core/table.html"
# Spreadsheets run a cell that starts with one of these as a formula: such cells get a quote first.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class DataTable(tables.Table):
    """The base of every data table. A subclass declares its columns and, optionally:

    `search_fields` (lookups searched by `q`, case-insensitively), `filterset_class` (a FilterSet
    on the same data), `export_name` (the CSV file's name), `rows_per_page`, `empty_text` (the title
    of the empty state) and `filtered_empty_text`.
    """

    search_fields: tuple[str, ...] = ()
    filterset_class = None
    export_name = "export"
    rows_per_page = PER_PAGE
    filtered_empty_text = "No rows match your filter."

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "table data-table"}
        empty_text = "Nothing here yet."

    # Set by data_table():
    html_id = ""
    search = ""
    filterset = None
    filtered = False
    empty_action = None  # (label, url): the empty state's call to action
    poll_seconds = 0
    response = None

    def row_context(self, record) -> dict:
        """What a TemplateCell's template needs beyond the record (e.g. what the viewer may do)."""
        return {}


class TemplateCell(tables.Column):
    """A cell drawn by a template with `record`, `table`, `request`, `user`, `csrf_token` and what
    the table's `row_context(record)` adds. Its export value is the column's plain value.

    The page's context processors do not run for each cell (they did: the shell's navigation and
    the bell's queries ran again for every row, 2 queries a row on the members page)."""

    def __init__(self, template_name: str, **kwargs):
        kwargs.setdefault("empty_values", ())
        super().__init__(**kwargs)
        self.template_name = template_name

    def render(self, record, table, **kwargs):
        request = table.request
        context = {
            "record": record,
            "table": table,
            "request": request,
            "user": getattr(request, "user", None),
            "csrf_token": get_token(request) if request is not None else "",
            **table.row_context(record),
        }
        return render_to_string(self.template_name, context)


class ActionsColumn(TemplateCell):
    """The row's buttons: never sorted or exported, its header only for screen readers; on a phone
    it stays in the row's card."""

    hide_header = True

    def __init__(self, template_name: str, **kwargs):
        kwargs.setdefault("verbose_name", "Actions")
        kwargs.setdefault("attrs", {"th": {"class": "actions"}, "td": {"class": "actions"}})
        super().__init__(template_name, accessor="pk", orderable=False, exclude_from_export=True, **kwargs)


class TimeColumn(tables.DateTimeColumn):
    """A moment in the kit's words ({% time %}: "5 minutes ago", the absolute time in the user's
    zone on hover); exported as ISO 8601."""

    def render(self, value, **kwargs):
        return time_tag(value)

    def value(self, value, **kwargs):
        return value.isoformat() if value else ""


def search_filter(queryset, fields, text: str):
    """Rows where any of `fields` contains every word of `text` (case-insensitive)."""
    for word in text.split():
        queryset = queryset.filter(reduce(operator.or_, (Q(**{f"{field}__icontains": word}) for field in fields)))
    return queryset


def data_table(
    request, table_class, data, *, prefix: str = "", empty_action=None, poll_seconds: int = 0, **table_kwargs
) -> DataTable:
    """Builds `table_class` over `data` (a queryset) filtered, searched, sorted and paged from
    request.GET. `table.response` is set when the request wants something else than the page:
    the CSV export, or (htmx) this table alone. `empty_action` is the empty state's (label, url);
    `poll_seconds` > 0 makes the table reload itself that often (while something is under way)."""
    params = request.GET
    filterset = None
    if table_class.filterset_class is not None:
        filterset = table_class.filterset_class(
            params, queryset=data, request=request, prefix=prefix.rstrip("-") or None
        )
        data = filterset.qs
    # (NUL cannot reach PostgreSQL in a text parameter: it would be a 500, so it is dropped.)
    search = params.get(f"{prefix}q", "").replace("\x00", "").strip()[:SEARCH_MAX]
    if search and table_class.search_fields:
        data = search_filter(data, table_class.search_fields, search)

    export = params.get(f"{prefix}_export") == "csv"
    table = table_class(data, prefix=prefix, **table_kwargs)
    table.html_id = f"{prefix}{slugify(table_class.export_name)}-table"
    table.search = search
    table.export_param = f"{prefix}_export"
    table.current_sort = params.get(table.prefixed_order_by_field, "")
    table.filterset = filterset
    table.filtered = bool(search) or (
        filterset is not None and any(params.get(name) for name in _param_names(filterset))
    )
    table.empty_action = empty_action
    table.poll_seconds = poll_seconds
    RequestConfig(request, paginate=False).configure(table)  # sorting; paging below (no ?per_page=)
    if not export:
        _paginate(table, params.get(table.prefixed_page_field) or 1)

    if export:
        table.response = csv_response(table)
    elif _wants_partial(request, table):
        table.response = render(request, TEMPLATE, {"table": table, "partial": True})
        table.response["Vary"] = "HX-Request, HX-Target"
    return table


def _paginate(table, page) -> None:
    try:
        table.paginate(page=page, per_page=table.rows_per_page)
    except PageNotAnInteger:
        table.paginate(page=1, per_page=table.rows_per_page)
    except EmptyPage:
        table.paginate(page=table.paginator.num_pages, per_page=table.rows_per_page)


def _param_names(filterset) -> list[str]:
    return [filterset.form.add_prefix(name) for name in filterset.form.fields]


def _wants_partial(request, table) -> bool:
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and not headers.get("HX-History-Restore-Request")
        and headers.get("HX-Target") == table.html_id
    )


class _Echo:
    """csv.writer's file: hands each line back instead of storing it."""

    def write(self, value):
        return value


def _safe_cell(value) -> str:
    """A cell's text: a column's rendered HTML (used when it has no value_<name>) as plain words,
    and a quote before what a spreadsheet would run as a formula."""
    text = "" if value is None else str(value)
    if isinstance(value, SafeData):
        text = " ".join(html.unescape(strip_tags(text)).split())
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_response(table) -> StreamingHttpResponse:
    """The table's rows as CSV (the export values of every page, as sorted and filtered), streamed,
    at most EXPORT_LIMIT rows."""
    if hasattr(table.data.data, "query"):  # a queryset: fetch only what may be written
        table.data.data = table.data.data[:EXPORT_LIMIT]
    return csv_stream(islice(table.as_values(), EXPORT_LIMIT + 1), table.export_name)


def csv_stream(rows: Iterable, name: str) -> StreamingHttpResponse:
    """Rows (the first one the header) streamed as a CSV file named `<name>-<time>.csv`; cells that
    a spreadsheet would run as formulas are defused."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # the BOM: spreadsheets then read the file as UTF-8
        for row in rows:
            yield writer.writerow([_safe_cell(v) for v in row])

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(name)}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def table_action_done(request) -> HttpResponse | None:
    """After an action posted by htmx from a table's row: the action's messages (inserted at the top
    of the page) and the `table-refresh` event, on which the page's tables reload themselves.
    None for a plain form post (the view then redirects as usual)."""
    if request.headers.get("HX-Request") != "true":
        return None
    response = HttpResponse(render_to_string("core/_action_messages.html", request=request))
    response["HX-Trigger"] = "table-refresh"
    return response
