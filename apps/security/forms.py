from django import forms

from .models import Action, Incident


class CloseForm(forms.Form):
    status = forms.ChoiceField(
        label="Close as",
        choices=[(Incident.Status.RESOLVED, "Resolved: it was dealt with"),
                 (Incident.Status.DISMISSED, "Dismissed: it was not a threat")],
        widget=forms.RadioSelect, initial=Incident.Status.RESOLVED,
    )  # fmt: skip
    note = forms.CharField(label="Note", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RuleForm(forms.Form):
    enabled = forms.BooleanField(label="On", required=False)
    auto_actions = forms.MultipleChoiceField(
        label="Respond automatically", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, rule, **kwargs):
        # One form per rule on the page: ids of their own, so each label names its own box.
        super().__init__(*args, auto_id=f"id_{rule.code}_%s", **kwargs)
        self.rule = rule
        self.fields["auto_actions"].choices = [(a, Action(a).label) for a in rule.actions]
        if not rule.actions:
            del self.fields["auto_actions"]
