from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting


def apply_errors(form, exc: ValidationError) -> None:
    """Puts a service's ValidationError on the form: by field where it names one of the form's
    fields, else as an error of the whole form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class HubFormRenderer(TemplatesSetting):
    """The site's one form renderer (settings.FORM_RENDERER): every `{{ form }}`, `as_div`,
    `as_p` and `{{ field.as_field_group }}` comes out of core/forms/*.html — the label without a
    colon, a required marker, help and errors under the field, checkboxes beside their label.
    Django marks an invalid field itself (aria-invalid, aria-describedby naming its error and
    help). TemplatesSetting renders with the project's template engine, so these templates are
    found like any other (django.forms, for the widgets' own templates, is in INSTALLED_APPS)."""

    form_template_name = "core/forms/form.html"
    field_template_name = "core/forms/field.html"
