"""The safe expression language of node parameters (no Python eval anywhere):

- JMESPath (https://jmespath.org) picks and reshapes data: `trigger.items[?price > `10`].name`.
  A parameter given as {"$expr": "<jmespath>"} takes the expression's value, of any type.
- Text with {{ … }} is a Jinja2 template rendered in a sandbox: "Welcome, {{ trigger.name }}".

Both read the run's context: trigger (what started the run), vars (set by "set variables"),
steps (each earlier node's output, by node id), item and index (inside a loop), run (its id).
"""

import jmespath
from jinja2 import TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jmespath.exceptions import JMESPathError

MAX_TEXT = 100_000  # characters a template may produce


class ExpressionError(ValueError):
    pass


_env = SandboxedEnvironment(autoescape=False, undefined=Undefined)
_templates: dict = {}
_paths: dict = {}


def _template(text: str):
    template = _templates.get(text)
    if template is None:
        try:
            template = _env.from_string(text)
        except TemplateError as exc:
            raise ExpressionError(f"template “{text[:80]}”: {exc}") from None
        if len(_templates) < 2048:
            _templates[text] = template
    return template


def _path(expression: str):
    compiled = _paths.get(expression)
    if compiled is None:
        try:
            compiled = jmespath.compile(expression)
        except JMESPathError as exc:
            raise ExpressionError(f"expression “{expression[:80]}”: {exc}") from None
        if len(_paths) < 2048:
            _paths[expression] = compiled
    return compiled


def search(expression: str, context: dict):
    """The value of the JMESPath `expression` in `context`."""
    if not isinstance(expression, str) or not expression.strip():
        raise ExpressionError("an empty expression")
    try:
        return _path(expression).search(context)
    except JMESPathError as exc:
        raise ExpressionError(f"expression “{expression[:80]}”: {exc}") from None


def render_text(text: str, context: dict) -> str:
    if "{{" not in text and "{%" not in text:
        return text
    try:
        out = _template(text).render(**context)
    except ExpressionError:
        raise
    except Exception as exc:  # noqa: BLE001 - anything a template raises (a sandbox refusal, a type error)
        raise ExpressionError(f"template “{text[:80]}”: {type(exc).__name__}: {exc}") from None
    if len(out) > MAX_TEXT:
        raise ExpressionError(f"template “{text[:80]}” produced more than {MAX_TEXT} characters")
    return out


def render(value, context: dict):
    """`value` (a node's parameters) with its templates rendered and its {"$expr"} evaluated."""
    if isinstance(value, str):
        return render_text(value, context)
    if isinstance(value, dict):
        if set(value) == {"$expr"}:
            return search(value["$expr"], context)
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    return value


def problems(value, where: str = "parameters") -> list[str]:
    """Syntax errors in the templates and expressions of `value`, each with where it is."""
    found = []
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            try:
                _template(value)
            except ExpressionError as exc:
                found.append(f"{where}: {exc}")
    elif isinstance(value, dict):
        if set(value) == {"$expr"}:
            try:
                _path(value["$expr"]) if isinstance(value["$expr"], str) else search("", {})
            except ExpressionError as exc:
                found.append(f"{where}: {exc}")
        else:
            for key, item in value.items():
                found.extend(problems(item, f"{where}.{key}"))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(problems(item, f"{where}.{i}"))
    return found


def expression_problem(expression) -> str | None:
    try:
        _path(expression) if isinstance(expression, str) and expression.strip() else search("", {})
    except ExpressionError as exc:
        return str(exc)
    return None
