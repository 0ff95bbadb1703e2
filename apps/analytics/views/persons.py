"""The persons pages (viewers and up, `analytics.events.view`): the list (distinct ids,
properties, first and last seen, search) and a person's page (properties, distinct ids, their
events newest first)."""

import django_tables2 as tables
import orjson
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.core.tables import DataTable, TimeColumn, data_table
from apps.core.templatetags.hub import time as time_tag
from apps.identity.decorators import tenant_member_required

from .. import selectors
from .events import EventFilter, EventsTable, _dict, _text, properties_cell

PERMISSION = "analytics.events.view"
SHOWN_IDS = 3
SHOWN_PROPERTIES = 3


class PersonsTable(DataTable):
    person = tables.Column(accessor="uuid", verbose_name="Person", orderable=False)
    ids = tables.Column(verbose_name="Distinct ids", orderable=False, empty_values=())
    properties = tables.Column(verbose_name="Properties", orderable=False)
    created = TimeColumn(verbose_name="First seen")
    last_seen = tables.Column(accessor="uuid", verbose_name="Last seen", orderable=False)

    search_fields = ("ids", "properties__email", "properties__name")
    export_name = "persons"

    class Meta(DataTable.Meta):
        row_attrs = {"data-person": lambda record: str(record.uuid)}
        empty_text = "No persons yet: they appear with the first event of each distinct id."
        order_by = "-created"

    _last_seen = None

    def _ids(self, record) -> list[str]:
        return (record.ids or "").split(" ") if record.ids else []

    _members = None

    def render_person(self, record):
        if self._members is None:
            rows = self.page.object_list if hasattr(self, "page") else []
            ids = [i for r in rows for i in self._ids(r.record)]
            self._members = selectors.member_names(tenant=self.request.tenant, distinct_ids=ids)
        label = selectors.person_label(record, self._ids(record))
        label = self._members.get(label, label)  # a member of this organisation, by name
        url = reverse("analytics:person", args=[record.uuid])
        return format_html('<a href="{}">{}</a>', url, label)

    def value_person(self, record):
        return str(record.uuid)

    def render_ids(self, record):
        ids = self._ids(record)
        more = len(ids) - SHOWN_IDS
        return format_html(
            "{}{}",
            format_html_join(" ", "<code>{}</code>", ((i,) for i in ids[:SHOWN_IDS])),
            format_html(' <span class="muted">+{} more</span>', more) if more > 0 else "",
        )

    def value_ids(self, record):
        return record.ids or ""

    def render_properties(self, record):
        properties = _dict(record.properties)
        return properties_cell(properties, sorted(properties)[:SHOWN_PROPERTIES])

    def value_properties(self, record):
        return orjson.dumps(record.properties).decode()

    def last_seen_of(self, record):
        """The newest event's time of this page's persons, read once for the page."""
        if self._last_seen is None:
            rows = self.page.object_list if hasattr(self, "page") else []
            self._last_seen = selectors.last_seen([i for r in rows for i in self._ids(r.record)])
        times = [self._last_seen[i] for i in self._ids(record) if i in self._last_seen]
        return max(times) if times else None

    def render_last_seen(self, record):
        return time_tag(self.last_seen_of(record), default="never")

    def value_last_seen(self, record):
        when = self.last_seen_of(record)
        return when.isoformat() if when else ""


class PersonEventFilter(EventFilter):
    default_period = "365d"

    class Meta(EventFilter.Meta):
        fields = ["period", "event", "property"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields.pop("distinct_id", None)


class PersonEventsTable(EventsTable):
    filterset_class = PersonEventFilter
    export_name = "person-events"

    class Meta(EventsTable.Meta):
        exclude = ("person",)
        empty_text = "No events of this person in this period."


@tenant_member_required(PERMISSION)
def persons(request):
    table = data_table(request, PersonsTable, selectors.person_list())
    if table.response:
        return table.response
    return render(request, "analytics/persons.html", {"table": table})


@tenant_member_required(PERMISSION)
def person(request, uuid):
    found = selectors.person_get(uuid)
    if found is None:
        raise Http404("No such person.")
    ids = selectors.person_distinct_ids(found)
    table = data_table(request, PersonEventsTable, selectors.person_events(found))
    if table.response:
        return table.response
    properties = sorted((k, _text(v)) for k, v in _dict(found.properties).items())
    label = selectors.person_label(found, ids)
    label = selectors.member_names(tenant=request.tenant, distinct_ids=[label]).get(label, label)
    context = {
        "person": found,
        "label": label,
        "distinct_ids": ids,
        "properties": properties,
        "last_seen": max(selectors.last_seen(ids).values(), default=None),
        "table": table,
    }
    return render(request, "analytics/person.html", context)
