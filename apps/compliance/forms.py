from django import forms

from apps.core.registry import RETENTION_ACTIONS

from .models import SiemSettings


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
