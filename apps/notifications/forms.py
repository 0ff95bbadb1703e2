from django import forms
from django.utils import timezone
from django.utils.html import format_html

from apps.events.selectors import event_type_list

from .models import Channel


def _event_type_choices():
    """The label people read, the code small beside it (the name webhook payloads carry)."""
    return [
        (t.name, format_html('<span>{} <small class="muted"><code>{}</code></small></span>', t.label, t.name))
        for t in sorted(event_type_list(), key=lambda t: t.label)
    ]


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL", max_length=1000, widget=forms.URLInput(attrs={"placeholder": "https://"})
    )
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Event types",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to receive every event type.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = _event_type_choices()


class ReplayForm(forms.Form):
    """`since` is a wall-clock time in the active time zone (the user's): the browser's
    datetime-local field has no zone, so the label names it and Django reads it in that zone."""

    event_type = forms.ChoiceField(label="Event type")
    since = forms.DateTimeField(
        label="Since",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A <select> shows text only: "Member joined (member.joined)".
        self.fields["event_type"].choices = [
            (t.name, f"{t.label} ({t.name})") for t in sorted(event_type_list(), key=lambda t: t.label)
        ]
        zone = timezone.get_current_timezone_name()
        offset = timezone.localtime().strftime("%z")
        since = self.fields["since"]
        since.label = f"Since ({zone})"
        since.help_text = f"A date and time in {zone} (UTC{offset[:3]}:{offset[3:]}), your time zone."


class PreferencesForm(forms.Form):
    """One choice per event type: in-app, e-mail, both or none."""

    def __init__(self, *args, current: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for event_type in sorted(event_type_list(), key=lambda t: t.label):
            self.fields[event_type.name] = forms.ChoiceField(
                label=event_type.label,
                help_text=event_type.description,
                choices=Channel.choices,
                initial=current.get(event_type.name),
            )
