"""Blobs' bytes: received, checked, hashed and stored once per tenant.

The `content` storage of the tenant's region (settings.HUB_REGIONS; by default STORAGES["content"])
is the local file system under HUB_CONTENT_ROOT by default and an S3-compatible bucket by settings
only. A tenant's blobs sit
under its own prefix, `<schema>/blobs/<aa>/<bb>/<sha256>`; nothing there has a URL: downloads go
through views that check permissions on every request.
"""

import hashlib
import mimetypes
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat

from apps.tenancy.regions import region_storage

from . import sanitize

CHUNK = 1024 * 1024
# Pictures whose pixels would take more memory than this once decoded are refused (a
# "decompression bomb": a few kB of PNG can claim 100,000 × 100,000 pixels).
MAX_PIXELS = 100_000_000

# Detected types that a file's name may call by another name without being refused.
SAME_KIND = [
    {"application/zip", "application/x-zip-compressed"},
    {"image/jpeg", "image/pjpeg"},
    {"application/xml", "text/xml"},
]
# What the detector answers for an office file it reads as a plain ZIP archive (older magic databases).
ZIP_BASED = {"application/zip", "application/octet-stream"}


def store(schema: str | None = None):
    """The content storage of the tenant's region (apps.tenancy.regions; default: the one served)."""
    return region_storage("content", schema=schema)


def blob_name(schema: str, sha256: str) -> str:
    return f"{schema}/blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


@dataclass
class Incoming:
    """A file received into a temporary file: its hash, size and detected type."""

    path: Path
    sha256: str
    size: int
    mime_type: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def receive(fileobj, *, name: str, max_bytes: int, keep_location: bool = False) -> Incoming:
    """Copies `fileobj` into a temporary file while hashing it; refuses it (ValidationError on
    "file") when it is empty, larger than max_bytes, not what its name says it is, a picture too
    large to decode or a zip bomb. Pictures lose their EXIF location unless `keep_location`: the
    hash and size are then those of the bytes kept."""
    digest, size = hashlib.sha256(), 0
    handle, path = tempfile.mkstemp(prefix="hub-content-")
    path = Path(path)
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := fileobj.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ValidationError(
                        {"file": [f"The file is larger than your plan allows ({filesizeformat(max_bytes)} at most)."]}
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationError({"file": ["The file is empty."]})
        import magic  # libmagic (Debian: libmagic1), loaded on the first upload

        mime_type = magic.from_file(str(path), mime=True)
        if mime_type == "application/octet-stream" and _is_text(path):
            mime_type = "text/plain"  # too short for libmagic to tell, e.g. "ok"
        _check_kind(name, mime_type)
        if mime_type.startswith("image/") and mime_type != "image/svg+xml":  # (SVG: text, no bitmap)
            _check_pixels(path)
        if sanitize.is_archive(mime_type):
            sanitize.check_archive(path, name)
        if not keep_location and sanitize.strip_location(path, mime_type):
            digest, size = _hashed(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Incoming(path, digest.hexdigest(), size, mime_type)


def _hashed(path: Path):
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest, size


def _is_text(path: Path) -> bool:
    sample = path.read_bytes()[:8192] if path.stat().st_size <= 8192 else b""
    try:
        return b"\x00" not in sample and bool(sample.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def _check_kind(name: str, detected: str) -> None:
    """A name whose extension promises another kind of file than the bytes are is refused."""
    claimed, _ = mimetypes.guess_type(name, strict=False)
    if claimed is None or claimed == detected:
        return
    if claimed.startswith("text/") and detected.startswith("text/"):
        return  # .csv, .md, .json read as plain text: the same bytes either way
    if any({claimed, detected} <= kinds for kinds in SAME_KIND):
        return
    if claimed.startswith("application/vnd.openxmlformats") and detected in ZIP_BASED | {claimed}:
        return
    extension = Path(name).suffix.lower()
    raise ValidationError(
        {
            "file": [
                f"The name ends in {extension} but the file is {_describe(detected)}: "
                "rename it or upload the right file."
            ]
        }
    )


def _describe(mime_type: str) -> str:
    extension = mimetypes.guess_extension(mime_type, strict=False)
    return f"a {extension[1:].upper()} file ({mime_type})" if extension else f"of type {mime_type}"


def _check_pixels(path: Path) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as picture:  # reads the header only
            width, height = picture.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise ValidationError({"file": ["The picture is damaged or in a format we cannot read."]}) from None
    if width * height > MAX_PIXELS:
        raise ValidationError(
            {
                "file": [
                    f"The picture is {width:,} × {height:,} pixels: "
                    f"at most {MAX_PIXELS // 1_000_000} megapixels, please."
                ]
            }
        )


def put(schema: str, incoming: Incoming) -> None:
    """Stores the bytes under their hash (writing them again writes the same bytes)."""
    with incoming.path.open("rb") as f:
        store(schema).save(blob_name(schema, incoming.sha256), File(f))


def open_blob(schema: str, sha256: str):
    return store(schema).open(blob_name(schema, sha256), "rb")


def signs_urls() -> bool:
    """Whether the content store hands out signed URLs (an S3-compatible bucket) rather than none."""
    return hasattr(store(), "bucket_name")


def signed_url(
    schema: str, sha256: str, *, seconds: int, content_type: str, disposition: str, cache_control: str
) -> str:
    """A URL of the blob that works for `seconds`, answered with these headers (S3's response-* query
    parameters, covered by the signature so they cannot be changed by whoever holds the URL)."""
    return store(schema).url(
        blob_name(schema, sha256),
        parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
            "ResponseCacheControl": cache_control,
        },
        expire=seconds,
    )


def delete(schema: str, sha256: str) -> None:
    store(schema).delete(blob_name(schema, sha256))


def limits(tenant) -> dict:
    return settings.HUB_CONTENT_LIMITS.get(tenant.plan, settings.HUB_CONTENT_LIMITS["free"])
