"""A diff between two versions of a text document: unified, or side by side, every line escaped.

Text is whatever libmagic called text (plain text, CSV, Markdown, source code, JSON, XML…), read
as UTF-8 (or Latin-1 when it is not). Anything else, or a file over MAX_BYTES, gets a message
instead of a diff.
"""

import difflib
from dataclasses import dataclass, field

from . import storage
from .models import Version

MAX_BYTES = 2 * 1024 * 1024
TEXT_TYPES = {"application/json", "application/xml", "application/csv", "application/x-yaml", "application/javascript"}


class NotText(Exception):
    """The versions cannot be compared as text: the message says why."""


def is_text(mime_type: str) -> bool:
    return mime_type.startswith("text/") or mime_type in TEXT_TYPES


def _lines(schema: str, version: Version) -> list[str]:
    blob = version.blob
    if not is_text(blob.mime_type):
        raise NotText(
            f"Version {version.number} is not a text file, so there is no line-by-line comparison: "
            "download both versions to compare them."
        )
    if blob.size > MAX_BYTES:
        raise NotText(f"Version {version.number} is too large to compare here (over {MAX_BYTES // 1024 // 1024} MB).")
    with storage.open_blob(schema, blob.sha256) as handle:
        data = handle.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.splitlines()


@dataclass
class Row:
    kind: str  # "same", "changed", "added", "removed", "skip"
    left_no: int | None = None
    left: str = ""
    right_no: int | None = None
    right: str = ""


@dataclass
class Diff:
    old: Version
    new: Version
    unified: list[tuple[str, str]] = field(default_factory=list)  # (kind, line): kind in "+", "-", " ", "@"
    rows: list[Row] = field(default_factory=list)  # side by side
    added: int = 0
    removed: int = 0


def version_diff(*, schema: str, old: Version, new: Version, context: int = 3) -> Diff:
    """Raises NotText for files that are not text."""
    a, b = _lines(schema, old), _lines(schema, new)
    diff = Diff(old=old, new=new)
    for line in difflib.unified_diff(a, b, f"version {old.number}", f"version {new.number}", n=context, lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        kind = line[:1] if line[:1] in "+- @" else " "
        diff.unified.append((kind, line[1:] if kind != "@" else line))
        diff.added += kind == "+"
        diff.removed += kind == "-"
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        diff.rows.append(Row("skip"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                diff.rows += [
                    Row("same", i + 1, a[i], j + 1, b[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            left, right = list(range(i1, i2)), list(range(j1, j2))
            for k in range(max(len(left), len(right))):
                i = left[k] if k < len(left) else None
                j = right[k] if k < len(right) else None
                kind = "changed" if i is not None and j is not None else "removed" if i is not None else "added"
                diff.rows.append(
                    Row(kind, i + 1 if i is not None else None, a[i] if i is not None else "",
                        j + 1 if j is not None else None, b[j] if j is not None else "")
                )  # fmt: skip
    return diff
