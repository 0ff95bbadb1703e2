"""Example values made from a JSON Schema (the inputs and outputs of an imported operation): the
smallest value that is valid, for the tests that call every bundled document's operation against
a fake of its service answering with an example of the document's own answer."""

import warnings

import hypothesis
from hypothesis import strategies
from hypothesis.errors import NonInteractiveExampleWarning
from jsonschema import Draft202012Validator

FORMATS = {
    "date-time": "2024-05-06T07:08:09Z",
    "date": "2024-05-06",
    "time": "07:08:09",
    "email": "ada@example.com",
    "uri": "https://example.com/a",
    "url": "https://example.com/a",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "byte": "aGk=",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
}


def example(schema, root: dict, depth: int = 0, full: bool = False):
    """A valid instance of `schema` (its $refs into `root`'s $defs): required properties only (all
    of the first level's with `full`, to tell one of several shapes from the others)."""
    if schema is True or not isinstance(schema, dict):
        return "x"
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return example({"allOf": [target, rest]} if rest else target, root, depth + 1, full)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    if "allOf" in schema:
        parts = [example(part, root, depth + 1) for part in schema["allOf"]]
        own = {k: v for k, v in schema.items() if k != "allOf"}
        if own.get("properties") or own.get("type") == "object":
            parts.append(example(own, root, depth + 1))
        if all(isinstance(p, dict) for p in parts):
            merged = {}
            for part in parts:
                merged.update(part)
            return merged
        return parts[0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [o for o in schema[key] if not (isinstance(o, dict) and o.get("type") == "null")]
            validator = Draft202012Validator({**root, **schema})
            made = [example(o, root, depth + 1, f) for f in (False, True) for o in options or schema[key]]
            return next((m for m in made if validator.is_valid(m)), made[0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        if not ({"properties", "items", "minLength", "maxLength", "pattern", "format"} & set(schema)):
            return {}  # anything is valid: the smallest object
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        properties = schema.get("properties") or {}
        names = list(schema.get("required") or []) or list(properties)[:1]
        if full:
            names = list(dict.fromkeys([*names, *properties]))
        if depth > 8:
            names = list(schema.get("required") or [])
        return {n: example(properties.get(n, {}), root, depth + 1) for n in names}
    if kind == "array":
        count = max(int(schema.get("minItems") or 0), 1 if depth < 8 else 0)
        if schema.get("maxItems") == 0:
            count = 0
        return [example(schema.get("items") or {}, root, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(low + (1 if "exclusiveMinimum" in schema else 0), 1)
        value = min(value, schema.get("maximum", value))
        step = schema.get("multipleOf")
        if step:
            value = step * max(1, int(value // step))
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema)


def _string(schema: dict) -> str:
    if schema.get("format") in FORMATS:
        return FORMATS[schema["format"]]
    if schema.get("pattern"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NonInteractiveExampleWarning)
            low, high = int(schema.get("minLength") or 0), int(schema.get("maxLength") or 10**6)
            return hypothesis.find(  # the simplest string the pattern and the lengths allow
                strategies.from_regex(schema["pattern"], fullmatch=True), lambda s: low <= len(s) <= high
            )
    low = int(schema.get("minLength") or 1)
    return ("x" * low)[: schema.get("maxLength", low)] or ""
