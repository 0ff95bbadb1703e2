"""Serving a version's bytes: streamed, with byte ranges (video, resumed downloads), an ETag per
blob, and never rendered on the tenant's origin unless it is a kind that cannot carry script.

Or, with HUB_CONTENT_SERVE = "redirect" (the default on an object store), a 302 to a short-lived
presigned URL of the blob in the bucket: the caller's permissions are checked by the view before, the bucket serves the
bytes (ranges included) with the Content-Disposition, Content-Type and Cache-Control asked in the
signed URL, so they come down as an attachment under the document's safe name.

`downloaded` is sent for each download served (not for a 304, nor for a range after the first
byte: one download, one signal), with the request and the version, for the apps that watch
downloads (apps.security's mass-download rule).
"""

import re

from django.conf import settings
from django.dispatch import Signal
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

from . import storage
from .models import Version

CHUNK = 256 * 1024
# Shown in the browser when asked (?inline=1); everything else is always a download. No HTML,
# SVG or XML: on the tenant's origin they could run script with the viewer's session.
INLINE_TYPES = {
    "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
    "video/mp4", "video/webm", "audio/mpeg", "audio/ogg", "audio/wav",
}  # fmt: skip
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
downloaded = Signal()


def _from_first_byte(request) -> bool:
    """Whether a request asks for the file from its start (no range, or one that starts at 0)."""
    match = RANGE.match(request.headers.get("Range", ""))
    return "Range" not in request.headers or (match is not None and match.group(1) == "0")


def version_response(request, *, schema: str, version: Version, inline: bool = False):
    blob = version.blob
    etag = f'"{blob.sha256}"'
    show = inline and blob.mime_type in INLINE_TYPES
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition_header(not show, version.document.name),
        "X-Content-Type-Options": "nosniff",
        # Even a file a browser decided to render could not run script nor load anything.
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
        # A version's bytes never change: caches may keep them (only for this user).
        "Cache-Control": "private, max-age=31536000, immutable",
    }
    not_modified = etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    if not not_modified and _from_first_byte(request):
        downloaded.send(sender=Version, request=request, version=version)
    if serve_mode() == "redirect":
        return _redirect(schema, version, disposition=headers["Content-Disposition"], show=show)
    if not_modified:
        return HttpResponse(status=304, headers=headers)
    start, end, status = 0, blob.size - 1, 200
    wanted = request.headers.get("Range", "")
    if wanted and request.headers.get("If-Range", etag) == etag:
        span = _range(wanted, blob.size)
        if span is None:
            return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{blob.size}"})
        start, end, status = *span, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{blob.size}"
    content_type = blob.mime_type if show else "application/octet-stream"
    response = StreamingHttpResponse(
        _read(storage.open_blob(schema, blob.sha256), start, end - start + 1), status=status,
        content_type=content_type, headers=headers,
    )  # fmt: skip
    response["Content-Length"] = str(end - start + 1)
    return response


def serve_mode() -> str:
    """ "redirect" when the store can sign URLs (S3) unless HUB_CONTENT_SERVE = "proxy"; else "proxy"."""
    mode = settings.HUB_CONTENT_SERVE or "redirect"
    return "redirect" if mode == "redirect" and storage.signs_urls() else "proxy"


def _redirect(schema: str, version: Version, *, disposition: str, show: bool) -> HttpResponseRedirect:
    blob = version.blob
    url = storage.signed_url(
        schema, blob.sha256, seconds=settings.HUB_CONTENT_URL_SECONDS,
        content_type=blob.mime_type if show else "application/octet-stream", disposition=disposition,
        cache_control="private, max-age=31536000, immutable",
    )  # fmt: skip
    response = HttpResponseRedirect(url)
    # The signed URL expires: neither the browser nor a proxy may keep the redirect.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response.api_redirect = True  # the API's answer itself, not a page to finish a step on
    return response


def _range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of one `bytes=` range, or None when it cannot be satisfied.
    (Several ranges in one request are answered with the first only: allowed by RFC 9110.)"""
    match = RANGE.match(header.split(",")[0].strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        n = int(last)
        return (max(0, size - n), size - 1) if n else None
    first, last = int(first), min(int(last) if last else size - 1, size - 1)
    return (first, last) if first <= last else None


def _read(f, start: int, length: int):
    try:
        f.seek(start)
        while length > 0:
            chunk = f.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        f.close()
