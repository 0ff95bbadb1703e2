"""The en_GB catalogue (the hub's wording of allauth's pages and emails) is committed compiled:
the .mo must be what msgfmt makes of the .po, or an edit of the .po silently does nothing."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en_GB" / "LC_MESSAGES"


def test_the_committed_mo_is_compiled_from_the_po(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:  # gettext is in the dev image (apt-get install gettext)
        pytest.fail("msgfmt is missing: apt-get install -y gettext")
    compiled = tmp_path / "django.mo"
    subprocess.run([msgfmt, "-o", str(compiled), str(CATALOGUE / "django.po")], check=True)
    assert compiled.read_bytes() == (CATALOGUE / "django.mo").read_bytes(), (
        "locale/en_GB/LC_MESSAGES/django.mo is stale: run msgfmt -o django.mo django.po in that folder"
    )
