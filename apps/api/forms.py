from datetime import UTC, datetime, time

from django import forms

from apps.core.api import scopes


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “CRM sync”.")
    scopes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, help_text="Write includes read.")
    expires_on = forms.DateField(
        required=False,
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The key stops working at the start of this day (UTC).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = scopes.human_choices()

    @property
    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        return datetime.combine(day, time.min, tzinfo=UTC) if day else None
