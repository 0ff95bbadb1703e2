"""The S3 path for real: content's services and API on an S3-compatible server (moto in server mode,
started by this module) chosen by settings only — uploads, dedup, versions, multipart uploads,
downloads by presigned redirect (headers, expiry) or proxied with ranges, purge, tenant prefixes."""

import hashlib
import logging
import os
import socket
import uuid
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.content import services, storage
from apps.content.models import Blob
from tests.api.conftest import api_client, make_key

BUCKET = "hub-content-test"
MB = 2**20


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )  # fmt: skip
    client.create_bucket(Bucket=BUCKET)
    yield endpoint, client
    server.stop()


def s3_storages(settings, *, endpoint: str, bucket: str = BUCKET, key: str = "testing") -> dict:
    """settings.STORAGES with the content store on an S3-compatible server (as production sets it)."""
    return {
        **settings.STORAGES,
        "content": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket, "endpoint_url": endpoint, "region_name": "us-east-1",
                "access_key": key, "secret_key": key, "file_overwrite": True, "default_acl": None,
                "querystring_auth": True, "signature_version": "s3v4",
                # Multipart above 5 MB (S3's smallest part), so a 12 MB file goes up in three parts.
                "transfer_config": TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB),
            },
        },
    }  # fmt: skip


@pytest.fixture(autouse=True)
def on_s3(settings, s3_endpoint):
    settings.STORAGES = s3_storages(settings, endpoint=s3_endpoint[0])
    settings.HUB_CONTENT_SERVE = ""
    settings.HUB_CONTENT_URL_SECONDS = 300


@pytest.fixture
def s3(s3_endpoint):
    return s3_endpoint[1]


def keys(s3, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def unique(text: str = "") -> bytes:
    return f"{text} {uuid.uuid4()}".encode()


def upload(tenant, user, content: bytes, name="notes.txt"):
    return services.document_upload(tenant=tenant, actor=user, fileobj=SimpleUploadedFile(name, content), name=name)


def test_uploads_are_stored_once_under_the_tenants_prefix_and_purged_when_unreferenced(tenant_a, owner_a, s3):
    content = unique("the same bytes")
    sha = hashlib.sha256(content).hexdigest()
    first = upload(tenant_a, owner_a, content, "a.txt")
    second = upload(tenant_a, owner_a, content, "b.txt")
    key = storage.blob_name(tenant_a.schema_name, sha)
    assert key.startswith(f"{tenant_a.schema_name}/blobs/")
    assert keys(s3, f"{tenant_a.schema_name}/blobs/{sha[:2]}/{sha[2:4]}/{sha}") == [key]  # one object
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content

    v2 = unique("second version")
    services.document_version_add(tenant=tenant_a, actor=owner_a, document=first, fileobj=SimpleUploadedFile("a", v2))
    v2_key = storage.blob_name(tenant_a.schema_name, hashlib.sha256(v2).hexdigest())
    assert s3.get_object(Bucket=BUCKET, Key=v2_key)["Body"].read() == v2

    for document in (first, second):
        services.document_trash(tenant=tenant_a, actor=owner_a, document=document)
    services.document_purge(tenant=tenant_a, actor=owner_a, document=first)
    # b.txt still refers to the shared bytes: kept; the second version was only a.txt's: gone.
    assert keys(s3, key) == [key] and keys(s3, v2_key) == []
    services.document_purge(tenant=tenant_a, actor=owner_a, document=second)
    assert keys(s3, key) == []
    with tenant_context(tenant_a):
        assert not Blob.objects.filter(sha256=sha).exists()


def test_a_large_file_goes_up_in_parts_and_arrives_whole(tenant_a, owner_a, s3):
    content = os.urandom(12 * MB)
    document = upload(tenant_a, owner_a, content, "big.bin")
    key = storage.blob_name(tenant_a.schema_name, hashlib.sha256(content).hexdigest())
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(content)
    assert head["ETag"].strip('"').endswith("-3")  # a multipart object's ETag counts its parts
    stored = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(content).hexdigest()
    with tenant_context(tenant_a):
        assert document.current.blob.size == len(content)


@pytest.fixture
def api_a(tenant_a):
    return api_client(tenant_a, make_key(tenant_a, scope_list=["content:write"])[1])


def post(api, content: bytes, name: str):
    response = api.post("/api/v1/content/documents/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 201, response.content
    return response.json()


def test_downloads_redirect_to_a_presigned_url_that_serves_an_attachment_and_expires(api_a, settings):
    html = b"<html><script>alert(1)</script>" + unique().replace(b"-", b"") + b"</html>"
    document = post(api_a, html, 'report "final".html')
    response = api_a.get(f"/api/v1/content/documents/{document['id']}/download/")
    assert response.status_code == 302, response.content
    assert response["Cache-Control"] == "private, no-store"
    url = response["Location"]
    assert f"/{BUCKET}/" in url and hashlib.sha256(html).hexdigest() in url  # the version's key: immutable

    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == html
    assert got.headers["Content-Type"] == "application/octet-stream"  # never rendered as HTML
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "report" in got.headers["Content-Disposition"]
    assert got.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    ranged = requests.get(url, headers={"Range": "bytes=6-13"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == html[6:14]  # ranges: the bucket's

    # A 1-second URL: signed for one second. (moto 5.2.5 does not refuse expired presigned URLs — its
    # S3 responses never read X-Amz-Expires — so the bucket's refusal itself is not tested here.)
    settings.HUB_CONTENT_URL_SECONDS = 1
    short = urlsplit(api_a.get(f"/api/v1/content/documents/{document['id']}/download/")["Location"])
    query = parse_qs(short.query)
    assert query["X-Amz-Expires"] == ["1"] and query["X-Amz-Signature"]
    assert query["response-content-disposition"][0].startswith("attachment;")


def test_pictures_asked_inline_keep_their_type_and_old_versions_their_own_key(api_a):
    from .conftest import png_bytes

    document = post(api_a, png_bytes(5, 4), "dot.png")
    url = f"/api/v1/content/documents/{document['id']}"
    inline = requests.get(api_a.get(f"{url}/download/", {"inline": "1"})["Location"], timeout=10)
    assert inline.headers["Content-Type"] == "image/png"
    assert inline.headers["Content-Disposition"].startswith("inline;")
    second = api_a.post(f"{url}/versions/", {"file": SimpleUploadedFile("dot.png", png_bytes(6, 4))})
    assert second.status_code == 201
    one = api_a.get(f"{url}/versions/1/download/")["Location"]
    two = api_a.get(f"{url}/versions/2/download/")["Location"]
    assert requests.get(one, timeout=10).content == png_bytes(5, 4)
    assert requests.get(two, timeout=10).content == png_bytes(6, 4)


def test_proxy_mode_streams_from_the_bucket_with_ranges(api_a, settings):
    settings.HUB_CONTENT_SERVE = "proxy"
    content = b"0123456789" + unique()
    document = post(api_a, content, "digits.txt")
    response = api_a.get(f"/api/v1/content/documents/{document['id']}/download/", HTTP_RANGE="bytes=2-5")
    assert response.status_code == 206 and b"".join(response.streaming_content) == b"2345"


def test_tenant_b_cannot_reach_tenant_as_objects(api_a, tenant_a, tenant_b, s3):
    content = unique("a's secret")
    document = post(api_a, content, "secret.txt")
    sha = hashlib.sha256(content).hexdigest()
    assert (
        keys(s3, f"{tenant_a.schema_name}/")
        and keys(s3, f"{tenant_b.schema_name}/blobs/{sha[:2]}/{sha[2:4]}/{sha}") == []
    )
    api_b = api_client(tenant_b, make_key(tenant_b, scope_list=["content:write"])[1])
    for path in ("download/", "versions/1/download/"):
        assert api_b.get(f"/api/v1/content/documents/{document['id']}/{path}").status_code == 404
    # Even the same bytes uploaded by B are B's own object, under B's prefix.
    post(api_b, content, "mine.txt")
    assert keys(s3, storage.blob_name(tenant_b.schema_name, sha)) == [storage.blob_name(tenant_b.schema_name, sha)]


def test_the_dashboards_download_redirects_after_checking_membership(tenant_a, tenant_b, owner_a):
    from tests.conftest import client_for

    document = upload(tenant_a, owner_a, unique("dashboard"), "minutes.txt")
    response = client_for(tenant_a, owner_a).get(f"/content/documents/{document.pk}/download/")
    assert response.status_code == 302 and f"/{BUCKET}/{tenant_a.schema_name}/blobs/" in response["Location"]
    assert requests.get(response["Location"], timeout=10).status_code == 200
    stranger = client_for(tenant_b, owner_a).get(f"/content/documents/{document.pk}/download/")
    assert stranger.status_code in (302, 403, 404) and BUCKET not in stranger.get("Location", "")
    assert client_for(tenant_a).get(f"/content/documents/{document.pk}/download/")["Location"].startswith("/accounts/")


def test_processing_reads_the_blob_from_the_bucket_and_keeps_its_pictures_there(tenant_a, owner_a, s3_endpoint):
    from apps.content import processing
    from tests.conftest import client_for

    from .files import scan

    document = services.document_upload(
        tenant=tenant_a, actor=owner_a, fileobj=SimpleUploadedFile("scan.png", scan(["Bucket heron notes"])),
        name="scan.png",
    )  # fmt: skip
    blob = services.version_process(tenant=tenant_a, version_id=document.current_id)
    assert "heron" in blob.text.lower() and blob.renditions == ["thumb", "web"]
    key = processing.derived_name(tenant_a.schema_name, blob.sha256, "thumb")
    stored = s3_endpoint[1].get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored[8:12] == b"WEBP"
    picture = client_for(tenant_a, owner_a).get(f"/content/documents/{document.pk}/versions/1/picture/thumb.webp")
    assert picture.status_code == 200 and b"".join(picture.streaming_content) == stored
