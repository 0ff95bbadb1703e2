#!/usr/bin/env python3
"""The system programs `make run`, `make test` and `make bench` need beyond Python's packages.

    python3 scripts/sysdeps.py run|test|bench

Each target needs the programs listed below. Missing ones are installed with apt-get when this
runs as root on a Debian-like system (as on CI); otherwise it prints the one command to run and
exits 1, so a test run never passes with a part of the suite silently skipped. For `run`, a
missing program only disables its feature, so it is a warning, not an error.
"""

import ctypes.util
import os
import shutil
import subprocess
import sys

# program -> (Debian package, what needs it)
PROGRAMS = {
    "xmlsec1": ("xmlsec1", "SAML single sign-on signs and checks XML with it"),
    "chromium": ("chromium", "the browser tests drive it through Playwright"),
    "pgbouncer": ("pgbouncer", "the PgBouncer end-to-end tests run one"),
    "wrk": ("wrk", "the HTTP benchmarks load the server with it"),
    "nats-server": ("nats-server", "the event-stream tests and benchmark publish to NATS JetStream"),
    "pg_basebackup": ("postgresql-15", "the read-replica tests start a primary and a streaming replica"),
    "libmagic": ("libmagic1", "uploaded files are recognised by their bytes with it"),
    "pango": ("libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0", "WeasyPrint draws PDF reports with it"),
    "tesseract": (
        "tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra",
        "content processing reads scanned PDFs and pictures with it (OCR, in the languages offered)",
    ),
    "pdftoppm": ("poppler-utils", "content processing reads PDFs' text (pdftotext) and draws their pages (pdftoppm)"),
    "npm": ("npm", "tests/content/test_s3_expiry.py installs s3rver with it and runs it on Node (nodejs)"),
}
NEEDS = {
    "run": ["xmlsec1", "libmagic", "pango", "tesseract", "pdftoppm"],
    "test": [
        "xmlsec1",
        "chromium",
        "pgbouncer",
        "nats-server",
        "pg_basebackup",
        "libmagic",
        "pango",
        "npm",
        "tesseract",
        "pdftoppm",
    ],
    "bench": ["xmlsec1", "wrk", "nats-server", "libmagic"],
}
# Where the code looks for them (fixed paths, as Debian installs them).
PATHS = {
    "chromium": "/usr/bin/chromium",
    "pgbouncer": "/usr/sbin/pgbouncer",
    "xmlsec1": "/usr/bin/xmlsec1",
    "pg_basebackup": "/usr/lib/postgresql/15/bin/pg_basebackup",
}


# Libraries rather than programs: found as the dynamic loader finds them (all of them).
LIBRARIES = {"libmagic": ("magic",), "pango": ("pango-1.0", "pangoft2-1.0")}


def present(program: str) -> bool:
    if program in LIBRARIES:
        return all(ctypes.util.find_library(name) for name in LIBRARIES[program])
    path = PATHS.get(program)
    return os.access(path, os.X_OK) if path else shutil.which(program) is not None


def apt_install(packages: list[str]) -> bool:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    print(f"sysdeps  installing {' '.join(packages)} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "env": env}
    if subprocess.run(["apt-get", "install", "-y", "-qq", *packages], **quiet).returncode == 0:
        return True
    # The package lists of a fresh machine may be missing or stale.
    subprocess.run(["apt-get", "update", "-qq"], **quiet)
    return subprocess.run(["apt-get", "install", "-y", "-qq", *packages], **quiet).returncode == 0


def main(target: str) -> int:
    missing = [program for program in NEEDS[target] if not present(program)]
    if not missing:
        return 0
    packages = [package for program in missing for package in PROGRAMS[program][0].split()]
    if apt_install(packages):
        missing = [program for program in missing if not present(program)]
        if not missing:
            return 0
    why = "; ".join(f"{program}: {PROGRAMS[program][1]}" for program in missing)
    command = f"sudo apt-get install -y {' '.join(PROGRAMS[program][0] for program in missing)}"
    if target == "run":
        print(f"sysdeps  warning: {' '.join(missing)} missing ({why}); install with: {command}", flush=True)
        return 0
    print(f"sysdeps  make {target} needs {' '.join(missing)} ({why}). Install with: {command}", flush=True)
    return 1


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in NEEDS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(NEEDS)}")
    sys.exit(main(sys.argv[1]))
