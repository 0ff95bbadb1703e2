"""The production image installs every system package the platform needs at run time: the
"run" list of scripts/sysdeps.py (what `make run` installs), so a feature that works under
`make run` does not silently fail in the image (uploads without libmagic, reports without pango)."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _sysdeps():
    spec = importlib.util.spec_from_file_location("sysdeps", ROOT / "scripts" / "sysdeps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_image_installs_every_run_time_system_package():
    sysdeps = _sysdeps()
    runtime = (ROOT / "Dockerfile").read_text().split("# --- runtime")[1]
    installed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", " ".join(re.findall(r"apt-get install ([^&]*)", runtime))))
    wanted = {package for name in sysdeps.NEEDS["run"] for package in sysdeps.PROGRAMS[name][0].split()}
    assert wanted - installed == set()
