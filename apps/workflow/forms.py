import json

from django import forms

from .library import TEMPLATES


class NewWorkflowForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="Leave empty to use the template's name.")
    template = forms.ChoiceField(
        choices=[("", "A blank workflow (started by hand)")] + [(t.key, t.name) for t in TEMPLATES],
        required=False,
        label="Start from",
    )

    def clean(self):
        data = super().clean()
        if not data.get("template") and not (data.get("name") or "").strip():
            self.add_error("name", "Give the workflow a name, or start from a template.")
        return data


class JSONField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 18, "class": "code", "spellcheck": "false"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return {}
        try:
            data = json.loads(value)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise forms.ValidationError("This is a JSON object: {…}.")
        return data


class DraftForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    max_concurrent_runs = forms.IntegerField(min_value=1, max_value=1000, label="Runs at once (at most)")
    step_limit = forms.IntegerField(min_value=1, max_value=100_000, label="Steps in one run (at most)")
    graph = JSONField(label="Graph (JSON)", help_text="Trigger, nodes and edges: see the workflow documentation.")


class RunForm(forms.Form):
    inputs = JSONField(required=False, label="Inputs (JSON)", widget=forms.Textarea(attrs={"rows": 4, "class": "code"}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(required=False, max_length=2000)


class CheckForm(forms.Form):
    """What the builder sends to be checked (the canvas's graph, saved or not)."""

    graph = JSONField(label="Graph (JSON)")


class TestRunForm(CheckForm):
    sample = JSONField(required=False, label="Sample trigger data (JSON)")
