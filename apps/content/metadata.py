"""Custom metadata fields of a document: a key, a type (text, number, date) and a value.

Stored as two JSON objects on the document: `metadata` holds the values ({"amount": 120.5,
"due": "2026-03-01"}: what the API always gave) and `metadata_types` the type of each field that
is not text ({"amount": "number", "due": "date"}).
"""

from datetime import date

from django.core.exceptions import ValidationError

TYPES = {"text": "Text", "number": "Number", "date": "Date"}
MAX_FIELDS = 50
MAX_KEY = 60
MAX_TEXT = 1000


def _number(value):
    if isinstance(value, bool):
        raise ValueError
    number = float(str(value).strip().replace(",", ".")) if not isinstance(value, int | float) else value
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError
    return int(number) if float(number).is_integer() and abs(number) < 2**53 else number


def _value(kind: str, value):
    if kind == "number":
        return _number(value)
    if kind == "date":
        return date.fromisoformat(str(value).strip()).isoformat()
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValueError
    return text


def metadata_clean(fields: list[dict]) -> tuple[dict, dict]:
    """(values, types) from [{"key", "type", "value"}]; ValidationError on "metadata" saying which
    field is wrong and why. Rows with neither key nor value are skipped (empty form rows)."""
    values, types, problems = {}, {}, []
    for field in fields:
        key = " ".join(str(field.get("key") or "").split())
        kind = field.get("type") or "text"
        raw = field.get("value")
        if not key and (raw is None or str(raw).strip() == ""):
            continue
        if not key:
            problems.append("Every field needs a name.")
        elif len(key) > MAX_KEY:
            problems.append(f"Field names are at most {MAX_KEY} characters.")
        elif key.lower() in {k.lower() for k in values}:
            problems.append(f"“{key}” is there twice.")
        elif kind not in TYPES:
            problems.append(f"“{key}”: the type is text, number or date.")
        else:
            try:
                values[key] = _value(kind, raw if raw is not None else "")
            except ValueError:
                problems.append(
                    {"number": f"“{key}” is a number: “{raw}” is not one.",
                     "date": f"“{key}” is a date (YYYY-MM-DD): “{raw}” is not one.",
                     "text": f"“{key}” is at most {MAX_TEXT} characters."}[kind]
                )  # fmt: skip
                continue
            if kind != "text":
                types[key] = kind
    if len(values) > MAX_FIELDS:
        problems.append(f"At most {MAX_FIELDS} fields on one document.")
    if problems:
        raise ValidationError({"metadata": problems})
    return values, types


def metadata_from_values(values: dict) -> tuple[dict, dict]:
    """From a plain object ({"invoice": "2026-114", "amount": 120.5}): numbers are numbers, the rest text."""
    fields = []
    for key, value in values.items():
        if isinstance(value, dict | list) or value is None:
            raise ValidationError({"metadata": [f"“{key}”: give a text or a number."]})
        kind = "number" if isinstance(value, int | float) and not isinstance(value, bool) else "text"
        fields.append({"key": key, "type": kind, "value": value})
    return metadata_clean(fields)


def metadata_fields(document) -> list[dict]:
    """[{"key", "type", "value"}] of a document, by name (PostgreSQL's jsonb keeps no order)."""
    types = document.metadata_types or {}
    values = document.metadata or {}
    return [{"key": k, "type": types.get(k, "text"), "value": values[k]} for k in sorted(values, key=str.lower)]
