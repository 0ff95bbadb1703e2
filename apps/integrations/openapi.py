"""The OpenAPI connector: an OpenAPI 3 document (JSON or YAML) turned into actions, one per
operation, with typed inputs (path, query and header parameters and a JSON body, as one JSON
Schema object) and outputs (the success answer's JSON Schema); calling one validates the inputs
and sends the request with a connection's credential.

Documents bundled with the hub (apps/integrations/specs/*.json) become ready connectors whose
operations are workflow nodes "<spec>.<operationId>"; a tenant's imported ones (ApiSpec rows) are
called through the one node "openapi.call" naming the document and the operation."""

import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import yaml
from django.core.exceptions import ValidationError

from .connectors import Action, Connector
from .schemas import validated_inputs

SPECS = Path(__file__).parent / "specs"
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
LOCATIONS = ("path", "query", "header")
MAX_DOCUMENT = 8 * 1024 * 1024
FORM = "application/x-www-form-urlencoded"


def parse(text: str | bytes) -> dict:
    """The document read from JSON or YAML text; ValidationError on "document" saying what is wrong."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f" (line {where.line + 1})" if where is not None else ""
            raise ValidationError({"document": [f"This is neither JSON nor YAML{line}."]}) from None
    if not isinstance(document, dict):
        raise ValidationError({"document": ["An OpenAPI document is an object (a mapping)."]})
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        shown = version or document.get("swagger") and f"Swagger {document['swagger']}" or "none"
        raise ValidationError(
            {"document": [f"Only OpenAPI 3 documents can be imported (this one's version: {shown})."]}
        )
    if not isinstance(document.get("paths"), dict) or not document["paths"]:
        raise ValidationError({"document": ["The document has no paths: there is nothing to call."]})
    return document


def _local(document: dict, ref: str):
    if not ref.startswith("#/"):
        raise ValidationError({"document": [f"Only references inside the document are supported ({ref})."]})
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise ValidationError({"document": [f"The reference {ref} points at nothing."]})
        node = node[part]
    return node


def _deref(document: dict, node):
    """A parameter, request body or response object, following its $ref (if any)."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        if node["$ref"] in seen:
            raise ValidationError({"document": [f"The reference {node['$ref']} refers to itself."]})
        seen.add(node["$ref"])
        node = _local(document, node["$ref"])
    return node


_COMPONENT = re.compile(r"^#/components/schemas/(.+)$")


def _schema(document: dict, schema, defs: dict) -> dict:
    """`schema` as JSON Schema 2020-12: OpenAPI 3.0's `nullable` read as a "null" type, references to
    components kept as references into `defs` (filled with what they need, transitively)."""

    def walk(node):
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                match = _COMPONENT.match(value)
                if match:
                    name = match.group(1)
                    if name not in defs:
                        defs[name] = {}
                        defs[name] = walk(_local(document, value))
                    out["$ref"] = f"#/$defs/{name}"
                else:
                    out.update(walk(_local(document, value)))
            elif key in ("example", "examples", "xml", "externalDocs", "discriminator", "readOnly", "writeOnly"):
                continue
            elif key == "nullable":
                continue
            elif key in ("properties", "patternProperties", "$defs", "definitions"):
                out[key] = {k: walk(v) for k, v in value.items()} if isinstance(value, dict) else value
            else:
                out[key] = walk(value)
        if node.get("nullable") is True:
            if "type" in out:
                types = out["type"] if isinstance(out["type"], list) else [out["type"]]
                out["type"] = [*types, "null"] if "null" not in types else types
            elif "$ref" in out or "allOf" in out or "oneOf" in out or "anyOf" in out:
                out = {"anyOf": [out, {"type": "null"}]}
        return out

    return walk(schema or {})


def _operation_id(method: str, path: str, operation: dict, taken: set) -> str:
    base = operation.get("operationId") or f"{method}_{path}"
    base = re.sub(r"[^A-Za-z0-9]+", "_", base).strip("_") or method
    found, n = base, 2
    while found in taken:
        found, n = f"{base}_{n}", n + 1
    taken.add(found)
    return found


def operations(document: dict) -> list[dict]:
    """Each operation: id, method, path, summary, input_schema (path/query/header parameters as
    properties, each marked with "x-in", and the JSON body as "body") and output_schema."""
    found, taken = [], set()
    for path, item in document["paths"].items():
        item = _deref(document, item) or {}
        shared = item.get("parameters") or []
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            defs: dict = {}
            properties, required = {}, []
            params = {}
            for param in [*shared, *(operation.get("parameters") or [])]:
                param = _deref(document, param)
                if isinstance(param, dict) and param.get("in") in LOCATIONS and param.get("name"):
                    params[(param["in"], param["name"])] = param  # the operation's own win
            for (where, name), param in params.items():
                if name in properties:
                    continue  # the same name in two places: the first one wins
                schema = _schema(document, param.get("schema") or {"type": "string"}, defs)
                if param.get("description"):
                    schema = {**schema, "description": param["description"]}
                properties[name] = {**schema, "x-in": where}
                if param.get("required") or where == "path":
                    required.append(name)
            body = _deref(document, operation.get("requestBody")) or {}
            content = body.get("content") or {}
            json_type = next((t for t in content if t == "application/json" or t.endswith("+json")), None)
            body_type = json_type or (FORM if FORM in content else None)
            if body_type is not None:
                properties["body"] = {
                    **_schema(document, (content[body_type] or {}).get("schema") or {}, defs),
                    "x-in": "body",
                }
                if body.get("required"):
                    required.append("body")
            output: dict = {}
            for status, response in sorted((operation.get("responses") or {}).items()):
                if str(status).startswith("2"):
                    response = _deref(document, response) or {}
                    answer = response.get("content") or {}
                    answer_type = next((t for t in answer if t == "application/json" or t.endswith("+json")), None)
                    if answer_type is not None:
                        output = _schema(document, (answer[answer_type] or {}).get("schema") or {}, defs)
                    break
            input_schema = {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            }
            if defs:
                input_schema["$defs"] = defs
                if output:
                    output = {**output, "$defs": defs}
            found.append(
                {
                    **({"body_type": "form"} if body_type == FORM else {}),
                    "id": _operation_id(method, path, operation, taken),
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary")
                    or operation.get("description", "")[:200]
                    or f"{method.upper()} {path}",
                    "input_schema": input_schema,
                    "output_schema": output,
                }
            )
    return found


def server_url(document: dict) -> str:
    """The document's first server, if it is an absolute address ("" if relative or none)."""
    for server in document.get("servers") or []:
        url = str((server or {}).get("url", ""))
        for name, variable in ((server or {}).get("variables") or {}).items():
            url = url.replace("{" + name + "}", str(variable.get("default", "")))
        if urlsplit(url).scheme in ("http", "https"):
            return url
    return ""


def form_fields(value, prefix: str = "") -> list[tuple[str, str]]:
    """A form body's fields: a list of plain values repeats its key (OpenAPI's default "form"
    style), an object's keys go in brackets ("metadata[plan]", the "deepObject" style Stripe reads)."""
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            found += form_fields(item, f"{prefix}[{key}]" if prefix else str(key))
        return found
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return [(prefix, _form_value(v)) for v in value if v is not None]
        return [pair for i, item in enumerate(value) for pair in form_fields(item, f"{prefix}[{i}]")]
    return [] if value is None else [(prefix, _form_value(value))]


def _form_value(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def call(client, operation: dict, inputs: dict):
    """Validates `inputs` against the operation's input schema, sends the request with the
    client's connection, returns the answer's JSON (or text)."""
    validated_inputs(operation["input_schema"], inputs, operation["id"])
    path, query, headers = operation["path"], {}, {}
    for name, schema in operation["input_schema"]["properties"].items():
        if name not in inputs:
            continue
        value, where = inputs[name], schema.get("x-in")
        if where == "path":
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        elif where == "query":
            if isinstance(value, dict):
                query[name] = json.dumps(value)
            elif isinstance(value, list):
                query[name] = [_form_value(v) for v in value]
            else:
                query[name] = _form_value(value)  # true/false, not Python's True/False
        elif where == "header":
            headers[name] = str(value)
    kwargs = {}
    if "body" in inputs and operation.get("body_type") == "form":
        kwargs["body"] = urlencode(form_fields(inputs["body"]), doseq=True).encode()
        headers["Content-Type"] = FORM
    elif "body" in inputs:
        kwargs["json_body"] = inputs["body"]
    reply = client.request(operation["method"], path, query=query or None, headers=headers or None, **kwargs)
    return reply.data()


# --- Documents bundled with the hub -----------------------------------------------------------


@cache
def manifest() -> dict[str, dict]:
    """The bundled documents of other services, by key, as scripts/bundle_openapi.py wrote them
    (label, category, source, operations, the kinds of credential, the operation its test calls);
    those it could not bundle ("excluded", with the reason) are left out."""
    services = json.loads((SPECS / "manifest.json").read_text())["services"]
    return {s["key"]: s for s in services if not s.get("excluded")}


@cache
def bundled() -> dict[str, tuple[dict, list[dict]]]:
    """The bundled documents by key (the file's name): (document info, operations)."""
    found = {}
    for path in sorted(SPECS.glob("*.json")):
        if path.stem != "hub" and path.stem not in manifest():
            continue  # the manifest itself, or a document it no longer lists
        document = json.loads(path.read_text())
        found[path.stem] = (
            {"title": document.get("info", {}).get("title", path.stem), "server_url": server_url(document)},
            operations(document),
        )
    return found


BUNDLED_INFO = {
    # key: (label, description, auth types, default address)
    "hub": (
        "ReactDjango-Hub API",
        "This hub's own API (/api/v1/), on this or another organisation's address, with an API key "
        "(a bearer token hub_…).",
        ("bearer",),
    ),
}


def _bundled_call(operation):
    def run(client, inputs):
        return call(client, operation, inputs)

    return run


@cache
def bundled_connectors():
    made = []
    for key, (info, ops) in bundled().items():
        service = manifest().get(key)
        if service is not None:
            source = service["source"]
            label, auth_types = service["label"], tuple(service["auth"])
            description = (
                f"{service['category']}: {service['label']} ({len(ops)} of the {source['operations_in_source']} "
                f"operations of its OpenAPI document “{info['title']}” {source['version']}, from APIs.guru)."
            )
        else:
            label, description, auth_types = BUNDLED_INFO[key]
        actions = tuple(
            Action(
                f"{key}.{op['id']}",
                f"{label}: {op['summary']}"[:200],
                f"{op['method']} {op['path']}",
                op["input_schema"],
                _bundled_call(op),
                op["output_schema"],
            )
            for op in ops
        )
        help_ = (service or {}).get("settings_help", "")
        if not info["server_url"]:
            help_ = f"{help_} Base URL: the address of the organisation's own server.".strip()
        made.append(
            Connector(
                key,
                label,
                description,
                auth_types,
                default_base_url=info["server_url"],
                actions=actions,
                settings_help=help_,
            )
        )
    return tuple(made)
