"""`make audit`: pip-audit over every pinned requirements file; fails on a known vulnerability.

    .venv/bin/python scripts/audit.py

Each pin of requirements/*.txt is looked up (`--no-deps`: the files pin exactly what is installed)
in pip-audit's default service, PyPI's JSON API (`/pypi/<name>/<version>/json`, which lists the
advisories of that release). A finding that is not in IGNORED fails the run (exit 1), one line
each with the versions that fix it: upgrade the pin, run the affected tests, commit.

A pin whose advisories could not be read (the service unreachable, or a mirror that serves the
package index but not that API) is NOT audited: the run says so plainly, names how many, and does
not fail for it; it fails closed only on real findings. On the machines this project is built on
(registries reached through a mirror), PyPI's per-release JSON answers 404, so every pin is reported
as not audited there; where the real API is reached, the same run audits them all.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("base.txt", "docs.txt", "dev.txt", "production.txt")

# Findings that truly do not apply here: advisory id -> "package version: why". Each entry names
# the pinned version it was judged against; drop it when the pin moves.
IGNORED: dict[str, str] = {}


def verdict(report: dict, ignored: dict[str, str]) -> tuple[int, list[str]]:
    """(exit code, lines to print) for pip-audit's JSON report."""
    deps = report.get("dependencies", [])
    found, skipped = [], []
    for dep in deps:
        if "skip_reason" in dep:
            skipped.append(dep)
            continue
        for vuln in dep.get("vulns", []):
            if vuln["id"] in ignored or any(alias in ignored for alias in vuln.get("aliases", [])):
                continue
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            found.append(f"  {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    audited = len(deps) - len(skipped)
    lines = []
    if found:
        lines.append(f"audit: {len(found)} known vulnerabilit{'y' if len(found) == 1 else 'ies'} in the pins:")
        lines += found
        lines.append("audit: upgrade those pins in requirements/ (or, if one truly does not apply, add it to")
        lines.append("       IGNORED in scripts/audit.py with the package version and the reason).")
    if skipped:
        lines.append(
            f"audit: {len(skipped)} of {len(deps)} pins were NOT audited: pip-audit could not read their advisories "
            f"({skipped[0]['skip_reason']})."
        )
        if not audited:
            lines.append(
                "audit: the vulnerability service (PyPI's JSON API) is not reachable from this machine: nothing was "
                "checked; the run fails only on real findings."
            )
    if not found and audited:
        lines.append(f"audit: no known vulnerability in the {audited} pins audited.")
    return (1 if found else 0), lines


def main() -> int:
    command = [
        sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip", "--progress-spinner", "off",
        "--format", "json", *(arg for name in FILES for arg in ("-r", str(ROOT / "requirements" / name))),
    ]  # fmt: skip
    for advisory in IGNORED:
        command += ["--ignore-vuln", advisory]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        # pip-audit itself failed: a broken requirements file fails the run; a service it could not
        # reach at all is said plainly and does not.
        error = (run.stderr.strip().splitlines() or ["no output"])[-1]
        if "ConnectionError" in run.stderr or "ServiceError" in run.stderr or "Max retries" in run.stderr:
            print(f"audit: the vulnerability service is not reachable: nothing was checked ({error}).")
            return 0
        print(f"audit: pip-audit failed: {error}", file=sys.stderr)
        return 2
    code, lines = verdict(report, IGNORED)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
