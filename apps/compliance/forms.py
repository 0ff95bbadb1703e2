from django import forms

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
