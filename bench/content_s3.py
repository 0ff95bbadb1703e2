"""content_upload_s3_mb_per_s: one 128 MB file through content's upload service (received, hashed,
type-checked, stored) to an S3-compatible server (moto in server mode, started here, multipart
above 8 MB as boto3 does by default); also prints content_upload_local_mb_per_s, the same file to
the local file system. No tus: the direct upload path only."""

import logging
import os
import socket
import tempfile
import time

from bench.common import log, report

SLUG = "bench-content"
SIZE = 128 * 2**20


def _upload_mb_per_s(tenant, owner, path: str) -> float:
    from django.core.files import File

    from apps.content import services

    with open(path, "rb") as f:
        started = time.perf_counter()
        document = services.document_upload(tenant=tenant, actor=owner, fileobj=File(f), name="big.bin")
        seconds = time.perf_counter() - started
    services.document_trash(tenant=tenant, actor=owner, document=document)
    services.document_purge(tenant=tenant, actor=owner, document=document)
    return SIZE / 2**20 / seconds


def content_upload_s3_mb_per_s():
    import boto3
    from django.conf import settings
    from django.test import override_settings
    from moto.server import ThreadedMotoServer

    from apps.identity.services import organisation_provision
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_delete

    for old in Tenant.objects.filter(slug=SLUG):
        tenant_delete(tenant=old)
    tenant, owner = organisation_provision(
        name="Bench Content", slug=SLUG, owner_email="owner@bench-content.example.com",
        owner_password="bench-1234-pw", plan=Tenant.Plan.ENTERPRISE,
    )  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every part
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        credentials = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials).create_bucket(Bucket="bench")
        on_s3 = {
            **settings.STORAGES,
            "content": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": "bench", "endpoint_url": endpoint, "region_name": "us-east-1",
                    "access_key": "bench", "secret_key": "bench", "file_overwrite": True, "default_acl": None,
                },
            },
        }  # fmt: skip
        with tempfile.NamedTemporaryFile(prefix="hub-bench-content-") as f:
            f.write(os.urandom(SIZE))
            f.flush()
            local = _upload_mb_per_s(tenant, owner, f.name)
            with override_settings(STORAGES=on_s3):
                s3 = _upload_mb_per_s(tenant, owner, f.name)
        log(f"content upload of {SIZE // 2**20} MB: local {local:.1f} MB/s, S3 (moto) {s3:.1f} MB/s")
        report("content_upload_local_mb_per_s", local, "MB/s")
        report("content_upload_s3_mb_per_s", s3, "MB/s")
    finally:
        server.stop()
        tenant_delete(tenant=tenant)
