"""`make audit` (scripts/audit.py): a known vulnerability fails with the versions that fix it, an
ignored one does not, and pins whose advisories could not be read are said to be unaudited
without failing the run."""

from scripts.audit import FILES, IGNORED, ROOT, verdict


def dep(name, version, *vulns, skip=None):
    if skip:
        return {"name": name, "version": version, "skip_reason": skip}
    return {"name": name, "version": version, "vulns": list(vulns)}


def vuln(id_, fixes=("2.0",), aliases=()):
    return {"id": id_, "fix_versions": list(fixes), "aliases": list(aliases), "description": "…"}


def test_a_known_vulnerability_fails_naming_the_fix():
    code, lines = verdict({"dependencies": [dep("django", "4.2.0", vuln("PYSEC-1", ["4.2.1"])), dep("ok", "1")]}, {})
    assert code == 1
    assert "  django 4.2.0: PYSEC-1 (fixed in 4.2.1)" in lines
    assert lines[0] == "audit: 1 known vulnerability in the pins:"


def test_an_ignored_advisory_by_id_or_alias_passes():
    report = {"dependencies": [dep("a", "1", vuln("PYSEC-1")), dep("b", "1", vuln("GHSA-x", aliases=["CVE-1"]))]}
    code, lines = verdict(report, {"PYSEC-1": "a 1: why", "CVE-1": "b 1: why"})
    assert code == 0 and lines == ["audit: no known vulnerability in the 2 pins audited."]


def test_unreadable_advisories_are_said_plainly_and_do_not_fail():
    skip = "Dependency not found on PyPI and could not be audited: django (5.2.19)"
    code, lines = verdict({"dependencies": [dep("django", "5.2.19", skip=skip)]}, {})
    assert code == 0
    assert lines[0].startswith("audit: 1 of 1 pins were NOT audited")
    assert "not reachable from this machine: nothing was checked" in lines[1]
    code, lines = verdict({"dependencies": [dep("django", "5.2.19", skip=skip), dep("a", "1", vuln("X"))]}, {})
    assert code == 1  # a real finding still fails


def test_every_requirements_file_is_audited_and_every_ignore_has_a_reason():
    assert {p.name for p in (ROOT / "requirements").glob("*.txt")} == set(FILES)
    assert all(reason.strip() for reason in IGNORED.values())
