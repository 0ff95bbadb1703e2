"""The OpenAPI document is checked in (tests/api/openapi.yaml): any change to the API's contract,
intended or not, shows up here as a diff to review. Regenerate it with `make openapi`."""

import difflib
from pathlib import Path

import pytest
from django.core.management import call_command

SNAPSHOT = Path(__file__).with_name("openapi.yaml")
REGENERATE = "make openapi"


def test_generated_document_is_the_checked_in_one(tmp_path):
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--api-version", "v1", "--validate", "--fail-on-warn", "--file", str(out))
    generated, expected = out.read_text(), SNAPSHOT.read_text()
    if generated != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            fromfile="tests/api/openapi.yaml (checked in)",
            tofile="generated",
        )
        pytest.fail(
            "The generated OpenAPI document differs from tests/api/openapi.yaml. If the change is "
            f"intended, regenerate it with `{REGENERATE}` and commit it.\n\n{''.join(diff)}",
            pytrace=False,
        )
