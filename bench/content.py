"""upload_mb_per_s: one file of BENCH_UPLOAD_MB (default 1,024 MB: 1 GB) of random bytes through
the tus endpoint (/api/v1/content/uploads/) to the local store, on the ASGI server as the
Dockerfile runs it (uvicorn, one worker process: bench.common.asgi_server), with an API key.

The clock runs from the creation (POST) to the answer of the last PATCH, which includes turning
the upload into a document: hashing, type detection, copying into the content-addressed store.
The file goes in PATCHes of BENCH_UPLOAD_CHUNK_MB (default 64 MB), as a tus client sends chunks.
Also printed: upload_patch_mb_per_s (the PATCHes before the last, bytes received only).
The store is a directory of the benchmark's own (.data/bench-content), emptied at the end.
"""

import base64
import http.client
import os
import shutil
import tempfile
import time
from contextlib import contextmanager

from bench.common import ROOT, asgi_server, fresh_tenant, log, report

SLUG = "bench-upload"
MB = 2**20
SIZE_MB = int(os.environ.get("BENCH_UPLOAD_MB", "1024"))
CHUNK_MB = int(os.environ.get("BENCH_UPLOAD_CHUNK_MB", "64"))
STORE = ROOT / ".data" / "bench-content"


@contextmanager
def upload_tenant():
    """A tenant on the enterprise plan (20 GB files) and an API key with content:write."""
    from django_tenants.utils import schema_context

    from apps.api.services import api_key_create
    from apps.identity.models import Membership, User

    with fresh_tenant(SLUG, "Bench Upload") as tenant:
        email = "owner@bench-upload.example.com"
        user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password=None)
        owner = Membership.objects.create(user=user, tenant=tenant, role="owner")
        owner = Membership.objects.select_related("user", "tenant").get(pk=owner.pk)
        with schema_context(tenant.schema_name):
            _, raw = api_key_create(actor=owner, name="bench", scopes=["content:write"])
        yield tenant, raw


def _random_file(size: int) -> str:
    handle, path = tempfile.mkstemp(prefix="hub-bench-upload-", suffix=".bin")
    with os.fdopen(handle, "wb") as out:
        left = size
        while left:
            block = min(left, 16 * MB)
            out.write(os.urandom(block))
            left -= block
    return path


def _call(port: int, method: str, path: str, headers: dict, body=None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


class _Slice:
    """`length` bytes of an open file from its current position, read in blocks (a PATCH body)."""

    def __init__(self, f, length: int):
        self.f, self.left = f, length

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return data


def upload_mb_per_s() -> None:
    from django.conf import settings

    STORE.mkdir(parents=True, exist_ok=True)
    size = SIZE_MB * MB
    log(f"upload: writing a {SIZE_MB} MB file of random bytes")
    path = _random_file(size)
    try:
        with upload_tenant() as (tenant, key):
            host = f"{SLUG}.{settings.HUB_BASE_HOSTNAME}"
            env = {"HUB_CONTENT_ROOT": str(STORE)}
            with asgi_server("bench.settings", workers=1, ready_host=host, ready_path="/bench/ping/", env=env) as (
                _,
                port,
            ):
                base = {"Host": host, "Authorization": f"Bearer {key}", "Tus-Resumable": "1.0.0"}
                started = time.perf_counter()
                created = _call(port, "POST", "/api/v1/content/uploads/", {
                    **base, "Upload-Length": str(size),
                    "Upload-Metadata": "filename " + base64.b64encode(b"bench.bin").decode(),
                })  # fmt: skip
                if created.status != 201:
                    raise RuntimeError(f"creation gave {created.status}")
                location = created.getheader("Location").split(host, 1)[1]
                offset, patches_done = 0, None
                with open(path, "rb") as f:
                    while offset < size:
                        length = min(CHUNK_MB * MB, size - offset)
                        if offset + length == size:
                            patches_done = (time.perf_counter() - started, offset)
                        answer = _call(port, "PATCH", location, {
                            **base, "Upload-Offset": str(offset), "Content-Length": str(length),
                            "Content-Type": "application/offset+octet-stream",
                        }, _Slice(f, length))  # fmt: skip
                        if answer.status != 204:
                            raise RuntimeError(f"PATCH at {offset} gave {answer.status}")
                        offset = int(answer.getheader("Upload-Offset"))
                elapsed = time.perf_counter() - started
                if not answer.getheader("Hub-Document"):
                    raise RuntimeError("the last PATCH named no document")
        log(f"upload: {SIZE_MB} MB in {elapsed:.1f} s ({CHUNK_MB} MB chunks, one uvicorn worker)")
        report("upload_mb_per_s", SIZE_MB / elapsed, "MB/s")
        report("upload_size_mb", SIZE_MB, "MB", digits=0)
        seconds, sent = patches_done
        if sent:
            report("upload_patch_mb_per_s", sent / MB / seconds, "MB/s")
    finally:
        os.unlink(path)
        shutil.rmtree(STORE, ignore_errors=True)
