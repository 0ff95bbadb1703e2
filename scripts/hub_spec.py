#!/usr/bin/env python3
"""hub_spec.py: writes apps/integrations/specs/hub.json, the integration hub's bundled document of
the hub's own API, from tests/api/openapi.yaml (`make openapi` runs it after generating that). The
plugins' paths are left out: which plugins a hub runs differs from one hub to another."""

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "api" / "openapi.yaml"
TARGET = ROOT / "apps" / "integrations" / "specs" / "hub.json"


def bundled(text: str) -> str:
    document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    document["paths"] = {p: item for p, item in document["paths"].items() if not p.startswith("/api/v1/plugins/")}
    return json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n"


if __name__ == "__main__":
    TARGET.write_text(bundled(SOURCE.read_text()))
    sys.stdout.write(f"wrote {TARGET.relative_to(ROOT)}\n")
