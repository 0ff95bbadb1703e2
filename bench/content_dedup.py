"""dedup_100_versions_mb: the storage 100 versions of a 10 MB file take when each version changes
one 4 KB page of the one before (1,000 MB of versions logically), through the real service
(apps.content.services.document_version_add) into the content-addressed local store.

Also printed: dedup_logical_mb (the 100 versions' sizes summed), dedup_ratio (logical / stored)
and dedup_unchanged_100_mb (100 saves of the same 10 MB: stored once). Blobs are whole files
named by their SHA-256, so a version that differs by one page is a new blob: the benchmark shows
what this scheme saves (identical versions, copies, restores) and what it does not (near-identical
versions, which would need chunk-level deduplication). The store is a directory of the
benchmark's own (.data/bench-dedup), emptied at the end.
"""

import io
import os
import shutil

from bench.common import ROOT, fresh_tenant, log, report

MB = 2**20
SIZE = 10 * MB
PAGE = 4096
VERSIONS = 100
STORE = ROOT / ".data" / "bench-dedup"


class _File(io.BytesIO):
    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name
        self.size = len(data)


def _stored_bytes() -> int:
    return sum(path.stat().st_size for path in STORE.rglob("*") if path.is_file())


def dedup_100_versions_mb() -> None:
    from django.core.files.storage import storages
    from django_tenants.utils import schema_context

    from apps.content import services
    from apps.identity.models import User

    STORE.mkdir(parents=True, exist_ok=True)
    # The content store in a directory of the benchmark's own (a local file system store).
    old = storages.backends["content"]
    storages.backends["content"] = {**old, "OPTIONS": {**old.get("OPTIONS", {}), "location": str(STORE)}}
    storages._storages.pop("content", None)
    try:
        with fresh_tenant("bench-dedup", "Bench Dedup") as tenant:
            user = User.objects.filter(email="owner@bench-dedup.example.com").first() or User.objects.create_user(
                email="owner@bench-dedup.example.com", password=None
            )
            data = bytearray(os.urandom(SIZE))
            with schema_context(tenant.schema_name):
                document = services.document_upload(
                    tenant=tenant, actor=user, fileobj=_File(bytes(data), "big.bin"), name="big.bin"
                )
                for number in range(2, VERSIONS + 1):
                    page = (number * 7919) % (SIZE // PAGE)
                    data[page * PAGE : (page + 1) * PAGE] = os.urandom(PAGE)
                    services.document_version_add(
                        tenant=tenant, actor=user, document=document, fileobj=_File(bytes(data), "big.bin")
                    )
                    if number % 25 == 0:
                        log(f"dedup: {number} versions")
                stored = _stored_bytes()
                logical = sum(v.blob.size for v in document.versions.select_related("blob"))
                report("dedup_100_versions_mb", stored / MB, "MB")
                report("dedup_logical_mb", logical / MB, "MB")
                report("dedup_ratio", logical / stored, "x", digits=2)
                same = services.document_upload(
                    tenant=tenant, actor=user, fileobj=_File(bytes(data[:SIZE]) + b"x", "same.bin"), name="same.bin"
                )
                before = _stored_bytes()
                for _ in range(VERSIONS - 1):
                    services.document_version_add(
                        tenant=tenant, actor=user, document=same, fileobj=_File(bytes(data[:SIZE]) + b"x", "same.bin")
                    )
                report("dedup_unchanged_100_mb", (_stored_bytes() - before + (SIZE + 1)) / MB, "MB")
    finally:
        shutil.rmtree(STORE, ignore_errors=True)
        storages.backends["content"] = old
        storages._storages.pop("content", None)
