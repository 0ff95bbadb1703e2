"""Coverage per package after `make test`, and the floors of pyproject.toml's [tool.hub.coverage-floor].

Prints, for each package of the last run's .coverage data, the share of lines (statements) run,
of branches taken (coverage.py's branch measure: each possible jump from a line with several
exits) and of both together (what coverage.py's own "Cover" column and fail_under use).
With --check it exits 1, naming each floor that was missed.
"""

import argparse
import json
import sys
import tempfile
import tomllib
from collections import defaultdict
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parent.parent


def percent(done: int, total: int) -> float:
    return 100.0 * done / total if total else 100.0


class Counts:
    def __init__(self):
        self.lines = self.lines_run = self.branches = self.branches_taken = 0

    def add(self, summary: dict) -> None:
        self.lines += summary["num_statements"]
        self.lines_run += summary["covered_lines"]
        self.branches += summary.get("num_branches", 0)
        self.branches_taken += summary.get("covered_branches", 0)

    def measure(self, kind: str) -> float:
        if kind == "lines":
            return percent(self.lines_run, self.lines)
        if kind == "branches":
            return percent(self.branches_taken, self.branches)
        return percent(self.lines_run + self.branches_taken, self.lines + self.branches)


def package_of(path: str) -> str:
    parts = Path(path).parts
    return "/".join(parts[:2]) if parts[0] == "apps" and len(parts) > 2 else parts[0]


def file_summaries(data_file: Path) -> dict[str, dict]:
    cov = coverage.Coverage(data_file=str(data_file), config_file=str(ROOT / "pyproject.toml"))
    cov.load()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cov.json_report(outfile=out.name, ignore_errors=True)
        files = json.loads(Path(out.name).read_text())["files"]
    return {str(Path(name).resolve().relative_to(ROOT)): entry["summary"] for name, entry in files.items()}


def counts_under(summaries: dict[str, dict], prefix: str) -> Counts:
    counts = Counts()
    for path, summary in summaries.items():
        if path.startswith(prefix):
            counts.add(summary)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a floor is missed")
    parser.add_argument("--data-file", type=Path, default=ROOT / ".coverage")
    args = parser.parse_args()
    if not args.data_file.exists():
        print(f"coverage: no data at {args.data_file} (run `make test` first)", file=sys.stderr)
        return 1
    summaries = file_summaries(args.data_file)
    packages: dict[str, Counts] = defaultdict(Counts)
    for path, summary in summaries.items():
        packages[package_of(path)].add(summary)
    packages["TOTAL"] = counts_under(summaries, "")

    print(f"{'package':<22} {'lines':>8} {'branches':>9} {'combined':>9}")
    for name in sorted(packages, key=lambda n: (n == "TOTAL", n)):
        c = packages[name]
        if not c.lines:
            continue  # nothing to measure (a bare __init__.py)
        print(f"{name:<22} {c.measure('lines'):7.1f}% {c.measure('branches'):8.1f}% {c.measure('both'):8.1f}%")

    if not args.check:
        return 0
    floors = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hub"]["coverage-floor"]
    missed = []
    for kind, by_prefix in floors.items():
        for prefix, floor in by_prefix.items():
            reached = counts_under(summaries, prefix).measure(kind)
            if reached < floor:
                missed.append(f"{kind} of {prefix or 'everything'}: {reached:.1f}% is below the floor of {floor}%")
    for line in missed:
        print(f"coverage floor missed: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
