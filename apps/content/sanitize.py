"""Checks and clean-ups of a received file's bytes, before they are hashed for good and stored.

- Location in pictures: the EXIF GPS block (where a photo was taken) is removed from JPEG, PNG,
  WebP and TIFF pictures unless the tenant keeps it. JPEG, PNG and WebP are not re-encoded: only
  their EXIF segment/chunk is rewritten without the GPS IFD (orientation, camera, date stay).
  TIFF: the GPS directory is blanked and unlinked in place (nothing else moves).
- Zip bombs: an archive (ZIP, DOCX, XLSX, PPTX, ODF…) whose central directory promises absurd
  uncompressed sizes, too many entries or an absurd compression ratio is refused.
"""

import struct
import zipfile
import zlib
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

GPS_IFD = 0x8825
EXIF_HEADER = b"Exif\x00\x00"
LOCATED_TYPES = {"image/jpeg", "image/png", "image/webp", "image/tiff"}
# Below this much uncompressed, no ratio is absurd (a 1 MB file of spaces zips to 1 kB).
RATIO_FLOOR = 16 * 2**20


def _exif_without_gps(raw: bytes) -> bytes | None:
    """The EXIF block (with its "Exif\\0\\0" header) without GPS, or None when it had none."""
    from PIL import Image

    exif = Image.Exif()
    exif.load(raw if raw.startswith(EXIF_HEADER) else EXIF_HEADER + raw)
    if GPS_IFD not in exif:
        return None
    del exif[GPS_IFD]
    return exif.tobytes()


def strip_location(path: Path, mime_type: str) -> bool:
    """Removes the GPS block from the picture at `path` in place; True when the bytes changed."""
    if mime_type not in LOCATED_TYPES:
        return False
    data = path.read_bytes()
    stripped = {
        "image/jpeg": _jpeg,
        "image/png": _png,
        "image/webp": _webp,
        "image/tiff": _tiff,
    }[mime_type](data)
    if stripped is None or stripped == data:
        return False
    path.write_bytes(stripped)
    return True


def _jpeg(data: bytes) -> bytes | None:
    """Rewrites the APP1 EXIF segment; the compressed picture after the headers is copied as is."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out, i = [b"\xff\xd8"], 2
    changed = False
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is picture data
            break
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        segment = data[i : i + 2 + length]
        body = segment[4:]
        if marker == 0xE1 and body.startswith(EXIF_HEADER):
            new = _exif_without_gps(body)
            if new is not None:
                segment, changed = b"\xff\xe1" + struct.pack(">H", len(new) + 2) + new, True
        out.append(segment)
        i += 2 + length
    return b"".join(out) + data[i:] if changed else None


def _png(data: bytes) -> bytes | None:
    """Rewrites the eXIf chunk (its CRC too); every other chunk is copied as is."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    out, i, changed = [data[:8]], 8, False
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[i : i + 8])
        chunk = data[i : i + 12 + length]
        if kind == b"eXIf":
            new = _exif_without_gps(chunk[8 : 8 + length])
            if new is not None:
                body = new[len(EXIF_HEADER) :]
                chunk = struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body))
                changed = True
        out.append(chunk)
        i += 12 + length
    return b"".join(out) if changed else None


def _webp(data: bytes) -> bytes | None:
    """Rewrites the RIFF container's EXIF chunk (and the RIFF size); the picture chunks stay."""
    if not (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return None
    out, i, changed = [], 12, False
    while i + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[i : i + 8])
        padded = length + (length & 1)
        chunk = data[i : i + 8 + padded]
        if kind == b"EXIF":
            raw = chunk[8 : 8 + length]
            new = _exif_without_gps(raw)
            if new is not None:
                body = new if raw.startswith(EXIF_HEADER) else new[len(EXIF_HEADER) :]
                chunk = struct.pack("<4sI", kind, len(body)) + body + b"\x00" * (len(body) & 1)
                changed = True
        out.append(chunk)
        i += 8 + padded
    if not changed:
        return None
    body = b"WEBP" + b"".join(out)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, …).
TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}


def _tiff(data: bytes) -> bytes | None:
    """In place, nothing moved: the GPS directory's values are zeroed, and its entry is taken out of
    the first image directory (the entries after it move up; the directory keeps its offset)."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack(order + "H", data[2:4])[0] != 42:
        return None  # (BigTIFF and anything else: left as is)
    out = bytearray(data)
    ifd = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[ifd : ifd + 2])[0]
    entries = [data[ifd + 2 + 12 * i : ifd + 14 + 12 * i] for i in range(count)]
    gps = [e for e in entries if struct.unpack(order + "H", e[:2])[0] == GPS_IFD]
    if not gps:
        return None
    where = struct.unpack(order + "I", gps[0][8:12])[0]
    n = struct.unpack(order + "H", data[where : where + 2])[0]
    for i in range(n):
        _tag, kind, values, offset = struct.unpack(order + "HHII", data[where + 2 + 12 * i : where + 14 + 12 * i])
        size = TIFF_SIZES.get(kind, 1) * values
        if size > 4:
            out[offset : offset + size] = bytes(size)
    out[where : where + 6 + 12 * n] = bytes(6 + 12 * n)
    kept = [e for e in entries if e is not gps[0]]
    next_ifd = data[ifd + 2 + 12 * count : ifd + 6 + 12 * count]
    out[ifd : ifd + 6 + 12 * count] = struct.pack(order + "H", len(kept)) + b"".join(kept) + next_ifd + bytes(12)
    return bytes(out)


ARCHIVE_TYPES = {"application/zip", "application/x-zip-compressed", "application/epub+zip", "application/java-archive"}


def is_archive(mime_type: str) -> bool:
    return (
        mime_type in ARCHIVE_TYPES
        or mime_type.startswith("application/vnd.openxmlformats")
        or mime_type.startswith("application/vnd.oasis.opendocument")
    )


def check_archive(path: Path, name: str) -> None:
    """Refuses (ValidationError on "file") an archive whose central directory promises more than
    HUB_CONTENT_ZIP_LIMITS allows. (The sizes read are those the archive declares: whatever
    unpacks it later must still stop at them.)"""
    limits = settings.HUB_CONTENT_ZIP_LIMITS
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError({"file": [f"“{name}” is a damaged archive: it cannot be opened."]}) from None
    total = sum(entry.file_size for entry in entries)
    ratio = total / max(path.stat().st_size, 1)
    problem = None
    if len(entries) > limits["max_entries"]:
        problem = f"it holds {len(entries):,} files (at most {limits['max_entries']:,})"
    elif total > limits["max_uncompressed_bytes"]:
        problem = (
            f"it would unpack to {filesizeformat(total)} (at most {filesizeformat(limits['max_uncompressed_bytes'])})"
        )
    elif total > RATIO_FLOOR and ratio > limits["max_ratio"]:
        problem = f"it would unpack to {ratio:,.0f} times its size (at most {limits['max_ratio']:,})"
    if problem:
        raise ValidationError(
            {"file": [f"“{name}” was refused: {problem}. Archives like this are used to overwhelm servers."]}
        )
