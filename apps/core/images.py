"""Uploaded pictures (avatars, organisation logos): checked by what the bytes are, not by their name,
stored in the default storage (django-storages' backend in production) and served back by views that
decide who may see them."""

import uuid
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404

# Pillow's format name -> the file extension and content type the picture is stored and served with.
# No SVG: a picture is shown on other people's pages, and an SVG can carry script.
FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4096


def image_validate(upload, *, max_bytes: int = MAX_BYTES):
    """Returns the upload if it is a PNG, JPEG, WebP or GIF picture of at most max_bytes and
    MAX_SIDE pixels a side; raises ValidationError saying what is wrong otherwise."""
    from PIL import Image, UnidentifiedImageError

    if upload.size > max_bytes:
        raise ValidationError(f"The picture is too large: at most {max_bytes // (1024 * 1024)} MB, please.")
    try:
        upload.seek(0)
        with Image.open(upload) as picture:
            kind, (width, height) = picture.format, picture.size
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError("That file is not a picture we can use: upload a PNG, JPEG, WebP or GIF.") from None
    finally:
        upload.seek(0)
    if kind not in FORMATS:
        raise ValidationError("That file is not a picture we can use: upload a PNG, JPEG, WebP or GIF.")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ValidationError(f"The picture is too big: at most {MAX_SIDE} pixels a side, please.")
    upload.hub_image_format = kind
    return upload


def image_name(upload) -> str:
    """A fresh, unguessable file name with the extension of what the (validated) picture really is."""
    extension = FORMATS.get(getattr(upload, "hub_image_format", ""), ("bin", ""))[0]
    return f"{uuid.uuid4().hex}.{extension}"


def image_store(field_file, *, upload=None, remove: bool = False) -> None:
    """Puts a validated upload in a picture field (or empties it when remove) without saving the model;
    the file it replaces is deleted from storage once the surrounding transaction commits."""
    from django.db import transaction

    old = field_file.name
    if upload is not None:
        field_file.save(image_name(upload), upload, save=False)
    elif remove:
        setattr(field_file.instance, field_file.field.attname, "")
    if old and old != getattr(field_file.instance, field_file.field.attname).name:
        storage = field_file.storage
        transaction.on_commit(lambda: storage.delete(old))


def image_response(field_file, *, private: bool):
    """The stored picture (a FieldFile) as a response, or 404 when there is none."""
    if not field_file:
        raise Http404
    extension = PurePosixPath(field_file.name).suffix.lstrip(".")
    content_type = next((ctype for ext, ctype in FORMATS.values() if ext == extension), None)
    if content_type is None:
        raise Http404
    try:
        handle = field_file.storage.open(field_file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = f"{'private' if private else 'public'}, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
