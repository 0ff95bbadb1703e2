"""Copies the main pages' screenshots from the last browser-test run into docs/screenshots/.

The browser tests write every screenshot to test-results/screenshots/ (not committed). This keeps
a chosen set in the repository, reduced to 256 colours, so a reviewer can look at the pages in both
themes and on a phone without running anything (docs/screenshots.md shows them).
Run after `make test`: `make screenshots`.
"""

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "test-results" / "screenshots"
TARGET = ROOT / "docs" / "screenshots"

PAGES = [
    "log-in",
    "home",
    "tables-members",
    "tables-api-keys",
    "tables-webhooks",
    "tables-deliveries",
    "tables-notifications",
    "tables-audit-log",
    "security",
    "palette",
    "style-guide",
]
SHOTS = ["light-desktop", "dark-desktop", "light-phone", "dark-phone"]


def main() -> int:
    missing = [f"{page}-{shot}.png" for page in PAGES for shot in SHOTS if not (SOURCE / f"{page}-{shot}.png").exists()]
    if missing:
        print(f"screenshots: missing in {SOURCE.relative_to(ROOT)} (run the browser tests first): {', '.join(missing)}")
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        for shot in SHOTS:
            name = f"{page}-{shot}.png"
            with Image.open(SOURCE / name) as image:
                image.convert("RGB").quantize(colors=256).save(TARGET / name, optimize=True)
    print(f"screenshots: {len(PAGES) * len(SHOTS)} copied to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
