from django import forms

from apps.core.registry import RETENTION_ACTIONS

from .models import DataRequest, SiemSettings


class SiemForm(forms.Form):
    transport = forms.ChoiceField(
        label="Forward the audit trail", choices=SiemSettings.Transport.choices, widget=forms.RadioSelect
    )
    host = forms.CharField(
        label="Syslog server", required=False, max_length=253, help_text="Host name or address, e.g. siem.internal"
    )
    port = forms.IntegerField(label="Port", required=False, min_value=1, max_value=65535, help_text="Usually 514")
    url = forms.CharField(
        label="Webhook address", required=False, max_length=500, help_text="https://… receives signed JSON batches"
    )


class PolicyForm(forms.Form):
    record_type = forms.ChoiceField(label="Records")
    age_days = forms.IntegerField(label="Keep for (days)", min_value=1, max_value=36_500)
    action = forms.ChoiceField(label="Then", choices=list(RETENTION_ACTIONS.items()))
    enabled = forms.BooleanField(label="Applied every hour", required=False, initial=True)

    def __init__(self, *args, types=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [(t.key, t.label) for t in (types or {}).values()]


class HoldForm(forms.Form):
    record_type = forms.ChoiceField(label="Records")
    object_id = forms.CharField(label="Record id", max_length=64)
    reason = forms.CharField(label="Why", max_length=500)

    def __init__(self, *args, types=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [(t.key, t.label) for t in (types or {}).values()]


class MyRequestForm(forms.Form):
    """A member's request about their own data."""

    kind = forms.ChoiceField(
        label="I want",
        choices=[
            (DataRequest.Kind.ACCESS, "A copy of my data"),
            (DataRequest.Kind.PORTABILITY, "My data, machine-readable"),
            (DataRequest.Kind.ERASURE, "My data erased"),
            (DataRequest.Kind.RECTIFICATION, "My data corrected"),
        ],
        widget=forms.RadioSelect,
    )
    law = forms.ChoiceField(
        label="Under", choices=DataRequest.Law.choices, initial=DataRequest.Law.GDPR,
        help_text="The law that gives you the right: it sets when you get an answer.",
    )  # fmt: skip
    details = forms.CharField(
        label="Anything to add", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For a correction: what is wrong, and what it should be.",
    )  # fmt: skip


class DataRequestForm(MyRequestForm):
    """An admin opens a request for a member."""

    email = forms.EmailField(label="The person's e-mail address", max_length=254)
    verified_how = forms.CharField(
        label="How you checked it is them", required=False, max_length=200,
        help_text="E.g. “Called them on the number we hold”. Leave it empty to e-mail them a link to confirm.",
    )  # fmt: skip
    field_order = ["email", "kind", "law", "details", "verified_how"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].label = "They want"
        self.fields["kind"].choices = DataRequest.Kind.choices
        self.fields["details"].label = "What they said"


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label="Why", max_length=5000, widget=forms.Textarea(attrs={"rows": 2}), help_text="The person reads it."
    )


class CompleteForm(forms.Form):
    note = forms.CharField(label="What you corrected", max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class PurposeForm(forms.Form):
    key = forms.SlugField(
        label="Key",
        max_length=50,
        help_text="How your site and the API name it, e.g. analytics. The same key again changes it.",
    )
    name = forms.CharField(label="Name", max_length=100)
    description = forms.CharField(
        label="What people consent to", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown in the banner. Changing these words makes a new version.",
    )  # fmt: skip
    required = forms.BooleanField(label="Strictly necessary (always on)", required=False)
    active = forms.BooleanField(label="Offered", required=False, initial=True)


class ConsentLookupForm(forms.Form):
    subject = forms.CharField(
        label="Person", max_length=200, help_text="Your site's id for them, as the banner or API sent it."
    )


class ReportForm(forms.Form):
    month = forms.DateField(
        label="Month", widget=forms.DateInput(attrs={"type": "month"}), input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text="A month that has ended.",
    )  # fmt: skip
