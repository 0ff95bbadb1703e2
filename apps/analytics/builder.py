"""The insight builder's forms: a server-rendered form per query kind that builds the query JSON
(queries/shapes.py), and puts the engine's errors (named `query.<path>`) under their fields.

    builder = Builder("trends", data=request.POST)        # or initial=insight.query
    if builder.is_valid():
        query = builder.query()                           # the JSON the engine reads
        try: selectors.query_answer(tenant=…, data=query)
        except ValidationError as exc: builder.apply_errors(exc)

Rows (series, funnel steps, filters) are formsets with one blank row more than they hold, so
one more can always be added without JavaScript; blank rows are left out of the query.
"""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .queries.shapes import FUNNEL_ORDERS, INTERVALS, MATHS, OPS, RETENTION_KINDS

KIND_WORDS = {
    "trends": "Trends",
    "funnel": "Funnel",
    "retention": "Retention",
    "stickiness": "Stickiness",
    "lifecycle": "Lifecycle",
}
KIND_HELP = {
    "trends": "How often events happen over time.",
    "funnel": "How many people go through a sequence of steps.",
    "retention": "How many people come back after a first action.",
    "stickiness": "On how many days (or weeks) people do something.",
    "lifecycle": "New, returning, resurrecting and dormant people.",
}
MATH_WORDS = {
    "total": "Events",
    "unique_persons": "Unique persons",
    "sum": "Sum of a property",
    "avg": "Average of a property",
}
INTERVAL_WORDS = {"hour": "Hour", "day": "Day", "week": "Week", "month": "Month"}
OP_WORDS = {
    "eq": "is",
    "ne": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "gt": "is greater than",
    "lt": "is less than",
    "is_set": "is set",
    "is_not_set": "is not set",
}
ORDER_WORDS = {"ordered": "In order (others may come between)", "strict": "Strictly in a row", "any": "In any order"}
RETENTION_WORDS = {"first_time": "First time only", "recurring": "Every time"}
TARGET = [("event", "Event property"), ("person", "Person property")]


def _choices(keys, words):
    return [(k, words.get(k, k)) for k in keys]


def _text(label, **kwargs):
    return forms.CharField(label=label, max_length=200, required=False, **kwargs)


class SeriesForm(forms.Form):
    event = _text("Event", help_text="e.g. $pageview or signed_up")
    math = forms.ChoiceField(label="Count", choices=_choices(MATHS, MATH_WORDS), initial="total")
    property = _text("Property", help_text="For a sum or an average: a numeric property.")


class StepForm(forms.Form):
    event = _text("Event")


class FilterForm(forms.Form):
    type = forms.ChoiceField(label="Of", choices=TARGET, initial="event")
    key = _text("Property")
    op = forms.ChoiceField(label="Condition", choices=_choices(OPS, OP_WORDS), initial="eq")
    value = forms.CharField(
        label="Value", max_length=1000, required=False, help_text="true, false and numbers are read as such."
    )

    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("key") or "").strip()

    def as_query(self) -> dict:
        op = self.cleaned_data["op"]
        out = {"type": self.cleaned_data["type"], "key": self.cleaned_data["key"].strip(), "op": op}
        if op not in ("is_set", "is_not_set"):
            out["value"] = filter_value(self.cleaned_data.get("value") or "", op)
        return out


def filter_value(text: str, op: str):
    """A filter's value from what was typed: numbers (and true/false for equals) as such."""
    if op in ("contains", "not_contains"):
        return text
    if op in ("eq", "ne") and text in ("true", "false"):
        return text == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def shown_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def filter_words(f: dict) -> str:
    """A property filter (its JSON) in words, e.g. "plan is pro"."""
    words = f"{f['key']} {OP_WORDS.get(f['op'], f['op'])}"
    return words if f["op"] in ("is_set", "is_not_set") else f"{words} {shown_value(f.get('value'))}"


def _formset(form_class, prefix, data, rows: list[dict], most: int, least: int = 1):
    count = min(max(len(rows) + 1, least), most)
    formset_class = forms.formset_factory(form_class, extra=count - len(rows), max_num=most, absolute_max=most)
    return formset_class(data=data, initial=rows, prefix=prefix)


class MainForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, required=False)
    description = forms.CharField(
        label="Description", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    exclude_test_accounts = forms.BooleanField(label="Leave out test accounts", required=False)


class TrendsForm(MainForm):
    interval = forms.ChoiceField(label="By", choices=_choices(INTERVALS, INTERVAL_WORDS), initial="day")
    breakdown_property = _text("Break down by property", help_text="One line per value (optional).")
    breakdown_type = forms.ChoiceField(label="Breakdown of", choices=TARGET, initial="event")
    breakdown_limit = forms.IntegerField(label="Values shown", initial=5, min_value=1, max_value=25)
    compare = forms.BooleanField(label="Compare with the previous period", required=False)


class FunnelForm(MainForm):
    order = forms.ChoiceField(label="Steps happen", choices=_choices(FUNNEL_ORDERS, ORDER_WORDS), initial="ordered")
    window_amount = forms.IntegerField(label="Within", initial=14, min_value=1, max_value=525600)
    window_unit = forms.ChoiceField(
        label="Unit", choices=[("days", "days"), ("hours", "hours"), ("minutes", "minutes")], initial="days"
    )
    breakdown_property = _text("Break down by property", help_text="Of the first step's event (optional).")
    breakdown_type = forms.ChoiceField(label="Breakdown of", choices=TARGET, initial="event")
    breakdown_limit = forms.IntegerField(label="Values shown", initial=5, min_value=1, max_value=25)


class RetentionForm(MainForm):
    start_event = _text("First action", help_text="e.g. signed_up")
    return_event = _text("Coming back with", help_text="e.g. $pageview")
    period = forms.ChoiceField(
        label="Period", choices=_choices(("day", "week", "month"), INTERVAL_WORDS), initial="day"
    )
    periods = forms.IntegerField(label="Periods", initial=7, min_value=1, max_value=60)
    retention_type = forms.ChoiceField(
        label="Count", choices=_choices(RETENTION_KINDS, RETENTION_WORDS), initial="first_time"
    )


class ActivityForm(MainForm):
    event = _text("Event", help_text="e.g. $pageview")
    interval = forms.ChoiceField(label="By", choices=_choices(INTERVALS, INTERVAL_WORDS), initial="day")


FORMS = {
    "trends": TrendsForm,
    "funnel": FunnelForm,
    "retention": RetentionForm,
    "stickiness": ActivityForm,
    "lifecycle": ActivityForm,
}
# Form fields the engine's paths name differently.
PATHS = {
    "breakdown.property": "breakdown_property",
    "breakdown.type": "breakdown_type",
    "breakdown.limit": "breakdown_limit",
    "window": "window_amount",
    "window.days": "window_amount",
    "window.hours": "window_amount",
    "window.minutes": "window_amount",
}


def default_query(kind: str) -> dict:
    today = timezone.localdate()
    query = {"kind": kind, "date_from": (today - timedelta(days=29)).isoformat(), "date_to": today.isoformat()}
    if kind == "trends":
        query["series"] = [{"event": "$pageview"}]
    elif kind == "funnel":
        query["steps"] = [{"event": "$pageview"}, {"event": ""}]
    elif kind == "retention":
        query.update(start_event="$pageview", return_event="$pageview", period="week", periods=4)
    else:
        query["event"] = "$pageview"
    return query


class Builder:
    """The form of one kind with its rows; builds the query and takes the engine's errors."""

    def __init__(self, kind: str, *, data=None, query: dict | None = None, name: str = "", description: str = ""):
        if kind not in FORMS:
            raise ValueError(kind)
        self.kind = kind
        query = query or default_query(kind)
        self.form = FORMS[kind](data=data, initial=self._initial(query) | {"name": name, "description": description})
        self.filters = _formset(FilterForm, "filter", data, self._filter_rows(query.get("filters")), 20)
        self.rows = None
        if kind == "trends":
            rows = [
                {"event": s.get("event", ""), "math": s.get("math", "total"), "property": s.get("property") or ""}
                for s in query.get("series") or []
                if isinstance(s, dict)
            ]
            self.rows = _formset(SeriesForm, "series", data, rows, 5)
        elif kind == "funnel":
            rows = [{"event": s.get("event", "")} for s in query.get("steps") or [] if isinstance(s, dict)]
            self.rows = _formset(StepForm, "step", data, rows, 10, least=2)
        self._row_index: list[int] = []
        self._filter_index: list[int] = []

    @property
    def rows_label(self) -> str:
        return {"trends": "Series", "funnel": "Steps"}.get(self.kind, "")

    @staticmethod
    def _filter_rows(filters) -> list[dict]:
        rows = []
        for f in filters or []:
            if isinstance(f, dict):
                rows.append(
                    {
                        "type": f.get("type", "event"),
                        "key": f.get("key", ""),
                        "op": f.get("op", "eq"),
                        "value": shown_value(f.get("value")),
                    }
                )
        return rows

    def _initial(self, query: dict) -> dict:
        initial = {
            k: v for k, v in query.items() if k in FORMS[self.kind].base_fields and not isinstance(v, dict | list)
        }
        breakdown = query.get("breakdown")
        if isinstance(breakdown, dict):
            initial.update(
                breakdown_property=breakdown.get("property", ""),
                breakdown_type=breakdown.get("type", "event"),
                breakdown_limit=breakdown.get("limit", 5),
            )
        window = query.get("window")
        if isinstance(window, dict) and len(window) == 1:
            unit, amount = next(iter(window.items()))
            initial.update(window_unit=unit, window_amount=amount)
        return initial

    def is_valid(self) -> bool:
        valid = self.form.is_valid() and self.filters.is_valid()
        if self.rows is not None:
            valid = self.rows.is_valid() and valid
        return valid

    def query(self) -> dict:
        """The query JSON (after is_valid())."""
        data = self.form.cleaned_data
        query = {"kind": self.kind, "date_from": data["date_from"].isoformat(), "date_to": data["date_to"].isoformat()}
        self._filter_index = [i for i, f in enumerate(self.filters) if not f.is_blank()]
        filters = [self.filters[i].as_query() for i in self._filter_index]
        if filters:
            query["filters"] = filters
        if data.get("exclude_test_accounts"):
            query["exclude_test_accounts"] = True
        if self.kind == "trends":
            self._row_index = [i for i, f in enumerate(self.rows) if (f.cleaned_data.get("event") or "").strip()]
            series = []
            for i in self._row_index:
                row = self.rows[i].cleaned_data
                item = {"event": row["event"].strip(), "math": row["math"]}
                if row["math"] in ("sum", "avg"):
                    item["property"] = (row.get("property") or "").strip()
                series.append(item)
            query.update(series=series, interval=data["interval"])
            if data.get("compare"):
                query["compare"] = True
            self._breakdown(query, data)
        elif self.kind == "funnel":
            self._row_index = [i for i, f in enumerate(self.rows) if (f.cleaned_data.get("event") or "").strip()]
            query["steps"] = [{"event": self.rows[i].cleaned_data["event"].strip()} for i in self._row_index]
            query.update(order=data["order"], window={data["window_unit"]: data["window_amount"]})
            self._breakdown(query, data)
        elif self.kind == "retention":
            for key in ("start_event", "return_event", "period", "periods", "retention_type"):
                query[key] = data[key].strip() if isinstance(data[key], str) else data[key]
        else:
            query.update(event=(data.get("event") or "").strip(), interval=data["interval"])
        return query

    @staticmethod
    def _breakdown(query: dict, data: dict) -> None:
        prop = (data.get("breakdown_property") or "").strip()
        if prop:
            query["breakdown"] = {"property": prop, "type": data["breakdown_type"], "limit": data["breakdown_limit"]}

    def apply_errors(self, exc: ValidationError) -> None:
        """Puts the engine's errors (`query.series.0.math`, `name`) under their fields; what names
        no field goes on top of the form."""
        for path, messages in exc.message_dict.items():
            if not self._place(path.removeprefix("query.") if path != "query" else "", messages):
                self.form.add_error(None, messages)

    def _place(self, path: str, messages: list[str]) -> bool:
        parts = path.split(".")
        head = parts[0]
        if head in ("series", "steps", "filters"):
            formset, index = (self.filters, self._filter_index) if head == "filters" else (self.rows, self._row_index)
            label = {"series": "Series", "steps": "Steps", "filters": "Filters"}[head]
            if formset is None:
                return False
            if len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) < len(index):
                sub = formset[index[int(parts[1])]]
                field = parts[2] if parts[2] in sub.fields else None
                sub.add_error(field, messages)
                return True
            self.form.add_error(None, [f"{label}: {m}" for m in messages])
            return True
        field = PATHS.get(path, path)
        if field in self.form.fields:
            self.form.add_error(field, messages)
            return True
        return False
