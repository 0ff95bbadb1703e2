from django.core.exceptions import ValidationError


def apply_errors(form, exc: ValidationError) -> None:
    """Puts a service's ValidationError on the form: by field where it names one of the form's
    fields, else as an error of the whole form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
