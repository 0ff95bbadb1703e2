"""The live events page (viewers and up, `analytics.events.view`): the tenant's events, newest
first, filtered by name, person and a property, as a data table with pages; live, it reloads its
first page when the writer announces new events (apps/analytics/static/analytics/live-events.js,
on the dashboard's websocket), unless the viewer paused it."""

from datetime import timedelta

import django_filters
import django_tables2 as tables
import orjson
from django import forms
from django.db.models.fields.json import KeyTextTransform
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from apps.core.tables import DataTable, data_table
from apps.identity.decorators import tenant_member_required

from .. import selectors
from ..models import Event

PERMISSION = "analytics.events.view"
PERIODS = {
    "1h": ("Last hour", timedelta(hours=1)),
    "24h": ("Last 24 hours", timedelta(days=1)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "365d": ("Last 365 days", timedelta(days=365)),
}
DEFAULT_PERIOD = "7d"
KEY_PROPERTIES = ("$pathname", "$current_url", "$title", "$source", "$lib")  # shown first when present
SHOWN_PROPERTIES = 3
VALUE_CHARS = 80


class EventFilter(django_filters.FilterSet):
    period = django_filters.ChoiceFilter(
        choices=[(code, label) for code, (label, _) in PERIODS.items()],
        empty_label=None,
        label="Time",
        method="filter_period",
    )
    event = django_filters.CharFilter(field_name="event", label="Event name", max_length=200)
    distinct_id = django_filters.CharFilter(field_name="distinct_id", label="Distinct id", max_length=200)
    property = django_filters.CharFilter(
        label="Property",
        method="filter_property",
        max_length=400,
        widget=forms.TextInput(attrs={"placeholder": "plan=team"}),
        help_text="name=value, or a name alone for events that have it",
    )

    class Meta:
        model = Event
        fields = ["period", "event", "distinct_id", "property"]

    default_period = DEFAULT_PERIOD  # bounds the rows counted for the pages (the table is partitioned by time)

    def __init__(self, data=None, *args, prefix=None, **kwargs):
        name = f"{prefix}-period" if prefix else "period"
        if data is not None and data.get(name) not in PERIODS:
            data = data.copy()  # no (or no known) period: the default one, shown as chosen
            data[name] = self.default_period
        super().__init__(data, *args, prefix=prefix, **kwargs)
        self.form.fields["period"].help_text = ""

    def filter_period(self, queryset, name, value):
        return queryset  # applied in filter_queryset, with its default

    def filter_queryset(self, queryset):
        code = self.form.cleaned_data.get("period") or self.default_period
        queryset = queryset.filter(timestamp__gte=timezone.now() - PERIODS[code][1])
        return super().filter_queryset(queryset)

    def filter_property(self, queryset, name, value):
        key, sep, wanted = value.partition("=")
        key = key.strip()
        if not key:
            return queryset
        if not sep:
            return queryset.filter(properties__has_key=key)
        # The text of the property (a number or true/false as JSON writes it) equals the value.
        # (KeyTextTransform takes the name whole: one with "__" in it is not split into a path.)
        return queryset.annotate(_wanted=KeyTextTransform(key, "properties")).filter(_wanted=wanted.strip())


def _short(value) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _text(value) -> str:
    return value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


class EventsTable(DataTable):
    timestamp = tables.Column(verbose_name="Time")
    event = tables.Column(verbose_name="Event", orderable=False)
    person = tables.Column(accessor="distinct_id", verbose_name="Person", orderable=False)
    properties = tables.Column(verbose_name="Properties", orderable=False)

    filterset_class = EventFilter
    export_name = "events"

    class Meta(DataTable.Meta):
        row_attrs = {"data-event-row": "", "data-uuid": lambda record: str(record.uuid)}
        empty_text = "No events in this period."
        order_by = "-timestamp"

    _persons = None

    _members = None

    def persons(self) -> dict:
        """The persons of this page's rows, and the members among them, looked up once."""
        if self._persons is None:
            ids = [r.record.distinct_id for r in (self.page.object_list if hasattr(self, "page") else [])]
            self._persons = selectors.persons_of(ids)
            self._members = selectors.member_names(tenant=self.request.tenant, distinct_ids=ids)
        return self._persons

    def order_timestamp(self, queryset, is_descending):
        return queryset.order_by(*(("-timestamp", "-uuid") if is_descending else ("timestamp", "uuid"))), True

    def render_timestamp(self, value):
        local = timezone.localtime(value)
        return format_html(
            '<time datetime="{}" title="{}">{}</time>',
            value.isoformat(),
            date_format(local, "j M Y") + " " + local.tzname(),
            date_format(local, "j M, H:i:s"),
        )

    def value_timestamp(self, value):
        return value.isoformat()

    def render_event(self, record):
        pairs = sorted((k, _text(v)) for k, v in _dict(record.properties).items())
        return format_html(
            '<details class="event-details"><summary class="event-summary">{}</summary>'
            '<dl class="event-properties" aria-label="All properties">{}</dl></details>',
            record.event,
            format_html_join("", "<dt><code>{}</code></dt><dd><pre>{}</pre></dd>", pairs)
            or format_html("<dt>{}</dt>", "No properties"),
        )

    def value_event(self, record):
        return record.event

    def render_person(self, record):
        person = self.persons().get(record.distinct_id)
        if person is None:
            return record.distinct_id
        label = selectors.person_label(person, [record.distinct_id])
        if label == record.distinct_id and record.distinct_id in self._members:
            label = self._members[record.distinct_id]  # a member of this organisation
        url = reverse("analytics:person", args=[person.uuid])
        if label == record.distinct_id:
            return format_html('<a href="{}">{}</a>', url, label)
        return format_html('<a href="{}">{}</a> <small class="muted">{}</small>', url, label, record.distinct_id)

    def value_person(self, record):
        return record.distinct_id

    def render_properties(self, record):
        properties = _dict(record.properties)
        first = [k for k in KEY_PROPERTIES if k in properties]
        rest = sorted(k for k in properties if k not in first and not k.startswith("$"))
        return properties_cell(properties, (first + rest)[:SHOWN_PROPERTIES])

    def value_properties(self, record):
        return orjson.dumps(record.properties).decode()


def properties_cell(properties: dict, shown: list[str]) -> str:
    """A few properties (`shown`) as `name value` pairs, and how many more there are."""
    if not shown:
        return format_html('<span class="muted">{}</span>', "none")
    more = len(properties) - len(shown)
    return format_html(
        '<span class="key-props">{}{}</span>',
        format_html_join("", "<span><code>{}</code> {}</span>", ((k, _short(properties[k])) for k in shown)),
        format_html('<span class="muted">+{} more</span>', more) if more > 0 else "",
    )


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def events_table(request, queryset, **kwargs):
    return data_table(request, EventsTable, queryset, **kwargs)


@tenant_member_required(PERMISSION)
def live_events(request):
    table = events_table(request, selectors.event_list())
    if table.response:
        return table.response
    return render(request, "analytics/events.html", {"table": table})
