"""The settings form of a plugin, generated from its JSON Schema. The form only reads the values
in; the schema (through services.plugin_configure) decides what is valid, so there is one rule."""

from django import forms

from apps.core.plugins import secret_fields
from apps.core.registry import Plugin, registry


def _choices(items: dict) -> list[tuple[str, str]]:
    if items.get("x-choices") == "event_types":
        return sorted(((e.name, e.label) for e in registry["event_types"].values()), key=lambda c: c[1])
    return [(value, str(value)) for value in items.get("enum", [])]


def _field(name: str, spec: dict, *, secret_set: bool) -> forms.Field:
    common = {"label": spec.get("title", name.replace("_", " ").capitalize()), "required": False}
    help_text = spec.get("description", "")
    kind = spec.get("type")
    if spec.get("writeOnly"):
        if secret_set:
            help_text = f"{help_text} It is set: leave this empty to keep it.".strip()
        return forms.CharField(widget=forms.PasswordInput(render_value=False), help_text=help_text, **common)
    if kind == "boolean":
        return forms.BooleanField(help_text=help_text, **common)
    if kind == "integer":  # its bounds are the schema's to check (one rule, one message), the browser's to hint
        bounds = {k: spec[s] for k, s in (("min", "minimum"), ("max", "maximum")) if s in spec}
        return forms.IntegerField(widget=forms.NumberInput(attrs=bounds), help_text=help_text, **common)
    if kind == "number":
        return forms.FloatField(help_text=help_text, **common)
    if kind == "array":
        return forms.MultipleChoiceField(
            choices=_choices(spec.get("items") or {}),
            widget=forms.CheckboxSelectMultiple,
            help_text=help_text,
            **common,
        )
    if "enum" in spec:
        return forms.ChoiceField(choices=[("", "Choose…"), *_choices(spec)], help_text=help_text, **common)
    return forms.CharField(max_length=spec.get("maxLength"), help_text=help_text, **common)


def settings_form(plugin: Plugin, *, data=None, initial: dict | None = None, secrets_set=()) -> forms.Form:
    """A form with one field per property of the plugin's settings schema, in its order."""
    properties = (plugin.config_schema or {}).get("properties") or {}
    form = forms.Form(data=data, initial=initial or {k: v["default"] for k, v in properties.items() if "default" in v})
    for name, spec in properties.items():
        form.fields[name] = _field(name, spec, secret_set=name in secrets_set)
    return form


def form_values(plugin: Plugin, form: forms.Form) -> dict:
    """The values to validate: what was filled in (an empty optional value left out)."""
    secrets = set(secret_fields(plugin.config_schema))
    values = {}
    for name, value in form.cleaned_data.items():
        if value in (None, "") or (name in secrets and not value):
            continue
        values[name] = list(value) if isinstance(value, (list, tuple)) else value
    return values


class UninstallForm(forms.Form):
    mode = forms.ChoiceField(
        label="Its data",
        choices=[("archive", "Keep a copy (archive), then drop its tables"), ("remove", "Delete it for good")],
        widget=forms.RadioSelect,
        initial="archive",
    )
    confirm = forms.CharField(label="Type the plugin's name to delete its data", required=False)
