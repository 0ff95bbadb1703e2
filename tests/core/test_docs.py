"""The README is the front door and docs/ the rest: cheap checks of what `make docs` (MkDocs
--strict) would also catch, plus the README's length, which nothing else watches."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README_MAX_LINES = 150
# Markdown links and images: [text](target) — the target up to a space, ")" or "#".
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)")


def _nav_pages(nav) -> list[str]:
    """Every page file named in mkdocs.yml's nav (a list of {title: page or [sub-nav]})."""
    pages = []
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def _local_links(text: str) -> list[str]:
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_the_readme_stays_short():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines, more than {README_MAX_LINES}: move the detail to a page in docs/."
    )


def test_the_readme_links_only_to_files_that_exist():
    links = _local_links((ROOT / "README.md").read_text())
    assert any(link.startswith("docs/") for link in links), "the README should point to the docs"
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_exists():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["docs_dir"] == "docs"
    in_nav = _nav_pages(config["nav"])
    on_disk = sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md"))
    assert sorted(set(on_disk) - set(in_nav)) == [], "pages in docs/ that mkdocs.yml's nav leaves out"
    assert sorted(set(in_nav) - set(on_disk)) == [], "pages in mkdocs.yml's nav that docs/ does not have"
    assert len(in_nav) == len(set(in_nav)), "a page is in the nav twice"


def test_links_between_docs_pages_name_pages_that_exist():
    broken = []
    for page in DOCS.rglob("*.md"):
        for link in _local_links(page.read_text()):
            if not (page.parent / link).resolve().exists():
                broken.append(f"{page.relative_to(ROOT)} → {link}")
    assert not broken, broken


def test_the_site_builds_offline_into_an_ignored_folder():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["theme"]["name"] == "material"
    assert config["theme"]["font"] is False  # no Google Fonts
    assert config["plugins"] == ["search"]
    assert "extra_javascript" not in config and "extra_css" not in config
    assert f"{config['site_dir'].strip('/')}/" in (ROOT / ".gitignore").read_text().splitlines()
