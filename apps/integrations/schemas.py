"""Inputs checked against an action's JSON Schema before anything is sent."""

import re

from jsonschema import Draft202012Validator

from .errors import InputError


def validated_inputs(schema: dict, inputs: dict, key: str) -> None:
    errors: dict = {}
    for error in Draft202012Validator(schema).iter_errors(inputs):
        field = ".".join(str(p) for p in error.absolute_path) or "input"
        missing = re.search(r"'([^']+)' is a required property", error.message)
        if error.validator == "required" and missing:
            field = ".".join([*(str(p) for p in error.absolute_path), missing.group(1)])
        errors.setdefault(field, []).append(error.message)
    if errors:
        listed = "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items()))
        raise InputError(f"Check the inputs of {key}: {listed}", errors)
