"""The forms of the reports pages: a report, an export, a scheduled report."""

from django import forms

from .models import Insight
from .models_reports import EXPORT_FORMATS, REPORT_FORMATS, ScheduledReport


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
