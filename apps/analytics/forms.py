"""The analytics pages' forms: a cohort, its rules (person properties, behaviours), members; reports,
exports and scheduled reports."""

import json

from django import forms

from .builder import OP_WORDS as BUILDER_OP_WORDS
from .builder import filter_words
from .models import Cohort, Insight
from .models_reports import EXPORT_FORMATS, REPORT_FORMATS, ScheduledReport

OP_WORDS = list(BUILDER_OP_WORDS.items())


class CohortForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(
        label="Who is in it",
        choices=[
            (Cohort.STATIC, "A list of persons I add (by distinct id, or from a CSV file)"),
            (Cohort.RULES, "Everyone who meets the rules below, when a query runs"),
        ],
        initial=Cohort.STATIC,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:  # a cohort's kind stays what it was made as
            del self.fields["kind"]


class PropertyRuleForm(forms.Form):
    key = forms.CharField(label="Person property", max_length=200, required=False)
    op = forms.ChoiceField(label="Condition", choices=OP_WORDS, initial="eq")
    value = forms.CharField(max_length=1000, required=False)

    def rule(self) -> dict | None:
        """The rule as the cohort stores it (a query's person filter), or None for a blank row."""
        key = (self.cleaned_data.get("key") or "").strip()
        if not key:
            return None
        op = self.cleaned_data["op"]
        rule = {"type": "person", "key": key, "op": op}
        if op not in ("is_set", "is_not_set"):
            rule["value"] = typed(self.cleaned_data.get("value") or "")
        return rule


def typed(text: str):
    """A value typed in a form: a number or true/false when it reads as one, else the text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, bool | int | float) else text


def untyped(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class BehaviourForm(forms.Form):
    event = forms.CharField(label="Did the event", max_length=200, required=False)
    min_count = forms.IntegerField(label="At least (times)", min_value=1, max_value=10_000, initial=1)
    days = forms.IntegerField(label="In the last (days)", min_value=1, max_value=365, initial=30)

    def rule(self) -> dict | None:
        event = (self.cleaned_data.get("event") or "").strip()
        if not event:
            return None
        return {"event": event, "min_count": self.cleaned_data["min_count"], "days": self.cleaned_data["days"]}


PropertyRules = forms.formset_factory(PropertyRuleForm, extra=0, max_num=20)
Behaviours = forms.formset_factory(BehaviourForm, extra=0, max_num=5)


def rule_formsets(data=None, *, cohort: Cohort | None = None):
    """The rules' two formsets, filled from `cohort`, with blank rows to add more."""
    filters = [{**f, "value": untyped(f.get("value", ""))} for f in (cohort.filters if cohort else [])]
    behaviours = list(cohort.behaviours) if cohort else []
    properties = PropertyRules(data, prefix="property", initial=filters)
    properties.extra = 2
    doings = Behaviours(data, prefix="behaviour", initial=behaviours)
    doings.extra = 1
    return properties, doings


class MembersAddForm(forms.Form):
    distinct_ids = forms.CharField(
        label="Distinct ids",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. An id that has sent no event yet counts once it does.",
    )

    def ids(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["distinct_ids"].splitlines() if line.strip()]


class MembersUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Distinct ids in the first column, one per row (a header row distinct_id is skipped).",
    )


def rule_words(cohort: Cohort) -> list[str]:
    """A cohort's rules as sentences, for those who may not change them."""
    out = [f"Person property {filter_words(f)}" for f in cohort.filters]
    for b in cohort.behaviours:
        times = b.get("min_count", 1)
        days = b.get("days", 30)
        out.append(
            f"Did {b['event']} at least {times} time{'s' if times != 1 else ''} "
            f"in the last {days} day{'s' if days != 1 else ''}"
        )
    return out


def _insight_choices():
    return [(i.pk, i.name) for i in Insight.objects.order_by("name", "id")]


class _InsightsField(forms.TypedMultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(coerce=int, widget=forms.CheckboxSelectMultiple, label="Insights", **kwargs)


class ReportForm(forms.Form):
    insight_ids = _InsightsField(help_text="In this order in the file; a dashboard's export is its insights.")
    format = forms.ChoiceField(choices=[(f.value, f.label) for f in REPORT_FORMATS], initial="pdf")
    title = forms.CharField(max_length=200, required=False, help_text="Optional; the insight's name by default.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["insight_ids"].choices = _insight_choices()


class ExportForm(forms.Form):
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To (included)", widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(choices=[(f.value, f.label) for f in EXPORT_FORMATS], initial="csv")


class ScheduledReportForm(forms.Form):
    name = forms.CharField(max_length=100)
    insight_ids = _InsightsField(
        help_text="Each over its latest period: its range moved to end the day before sending."
    )
    format = forms.ChoiceField(choices=[(f.value, f.label) for f in REPORT_FORMATS], initial="pdf")
    frequency = forms.ChoiceField(choices=ScheduledReport.Frequency.choices, initial="weekly")
    hour = forms.TypedChoiceField(
        coerce=int, choices=[(h, f"{h:02}:00") for h in range(24)], initial=8, label="At", help_text=""
    )
    recipient_ids = forms.TypedMultipleChoiceField(
        coerce=int, widget=forms.CheckboxSelectMultiple, label="Send to", help_text="Members of this organisation."
    )

    def __init__(self, *args, members=(), time_zone="UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["insight_ids"].choices = _insight_choices()
        self.fields["recipient_ids"].choices = [
            (m.user_id, f"{m.user.get_full_name() or m.user.email} ({m.user.email})") for m in members
        ]
        self.fields["hour"].help_text = f"In the organisation's time zone ({time_zone})."
