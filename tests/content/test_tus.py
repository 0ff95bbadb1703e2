"""/api/v1/content/uploads/: the tus 1.0 server, driven by a real tus client (tuspy) and by plain
HTTP against a live hub (uvicorn, the test database): chunks, an interrupted upload resumed by a
new client from the server's offset, checksums, offsets, sizes, isolation and bad input."""

import base64
import hashlib
import os
import socket
import uuid

import pytest
import requests
from django.db import connection
from django_tenants.utils import schema_context
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.uploader import Uploader

from apps.content import selectors, tus
from apps.content.models import Document, Upload
from apps.identity.models import Membership
from apps.tenancy.models import Tenant
from tests.api.conftest import make_key
from tests.conftest import client_for, subprocess_env
from tests.factories import MembershipFactory
from tests.processes import free_port, uvicorn

from .conftest import PDF

# The live server commits into tenant A (documents, their events and audit entries).


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@pytest.fixture(scope="module")
def _localhost_names():
    """Python's resolver, like Chromium's, sends *.localhost to 127.0.0.1 (the tenants' hosts)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    yield
    socket.getaddrinfo = real


@pytest.fixture(scope="module")
def live(_session_tenants, django_db_blocker, _localhost_names):
    """A live hub and committed keys: alpha's owner, another member of alpha, beta's owner."""
    port = free_port()
    env = subprocess_env(HUB_BASE_DOMAIN=f"localhost:{port}", DJANGO_ALLOWED_HOSTS="localhost,.localhost")
    with django_db_blocker.unblock():
        alpha = Tenant.objects.get(pk=_session_tenants["alpha"])
        beta = Tenant.objects.get(pk=_session_tenants["beta"])
        other = MembershipFactory(tenant=alpha, role="admin", user__email=f"tus-{uuid.uuid4().hex[:8]}@example.com")
        keys = {
            "alpha": make_key(alpha, scope_list=["content:write"], name="tus owner"),
            "other": make_key(alpha, user=other.user, scope_list=["content:write"], name="tus other"),
            "beta": make_key(beta, scope_list=["content:write"], name="tus beta"),
        }
        with uvicorn(port, env):
            yield {"port": port, "alpha": alpha, "beta": beta, "keys": {k: v[1] for k, v in keys.items()}}
        for name, (key, _) in keys.items():
            with schema_context((beta if name == "beta" else alpha).schema_name):
                key.delete()
        for schema in (alpha.schema_name, beta.schema_name):
            with schema_context(schema):
                for upload in Upload.objects.all():
                    tus.part_path(schema, upload.pk).unlink(missing_ok=True)
                Upload.objects.all().delete()
        Membership.objects.filter(pk=other.pk).delete()
        with schema_context(alpha.schema_name):  # their notifications live in the tenant's schema
            other.user.delete()
        connection.close()


def url(live, tenant="alpha") -> str:
    return f"http://{tenant}.localhost:{live['port']}/api/v1/content/uploads/"


def headers(live, who="alpha", **extra) -> dict:
    return {"Authorization": f"Bearer {live['keys'][who]}", "Tus-Resumable": "1.0.0", **extra}


def client(live, who="alpha", tenant="alpha"):
    return tus_client.TusClient(url(live, tenant), headers={"Authorization": f"Bearer {live['keys'][who]}"})


def create(live, length: int, who="alpha", tenant="alpha", **metadata) -> requests.Response:
    metadata = metadata or {"filename": "notes.txt"}
    encoded = ",".join(f"{k} {base64.b64encode(str(v).encode()).decode()}" for k, v in metadata.items())
    return requests.post(
        url(live, tenant), headers=headers(live, who, **{"Upload-Length": str(length), "Upload-Metadata": encoded})
    )


def patch(live, location: str, body: bytes, offset: int, who="alpha", **extra) -> requests.Response:
    return requests.patch(
        location, data=body,
        headers=headers(
            live, who, **{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream", **extra}
        ),
    )  # fmt: skip


def uploads_of(tenant) -> list[Upload]:
    with schema_context(tenant.schema_name):
        return list(Upload.objects.all())


def documents_named(tenant, name: str) -> list[Document]:
    with schema_context(tenant.schema_name):
        return list(Document.objects.filter(name=name))


def test_options_announce_the_protocol_and_its_extensions(live, db):
    answer = requests.options(url(live), headers=headers(live))
    assert answer.status_code == 204
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert set(answer.headers["Tus-Extension"].split(",")) == {
        "creation", "creation-with-upload", "termination", "expiration", "checksum",
    }  # fmt: skip
    assert "sha256" in answer.headers["Tus-Checksum-Algorithm"].split(",")
    assert int(answer.headers["Tus-Max-Size"]) == 25 * 2**20  # the free plan's largest file


def test_a_file_sent_in_chunks_interrupted_and_resumed_by_a_new_client(live, tmp_path, db):
    content = os.urandom(16).hex().encode() * 20_000  # 640 kB of text, 7 chunks of 100 kB
    path = tmp_path / "chunked.txt"
    path.write_bytes(content)
    first = Sha256Uploader(
        str(path), client=client(live), chunk_size=100_000, upload_checksum=True,
        metadata={"filename": "chunked.txt", "note": "first draft"},
    )  # fmt: skip
    first.upload(stop_at=300_000)  # three chunks, then the client goes away
    assert first.offset == 300_000
    assert documents_named(live["alpha"], "chunked.txt") == []

    second = Sha256Uploader(str(path), url=first.url, client=client(live), chunk_size=100_000, upload_checksum=True)
    assert second.offset == 300_000  # asked the server (HEAD), not the first client
    second.upload()
    assert second.offset == len(content)

    state = requests.head(first.url, headers=headers(live))
    assert state.status_code == 200 and state.headers["Upload-Offset"] == str(len(content))
    document_id = int(state.headers["Hub-Document"])
    document = requests.get(state.headers["Hub-Document-Url"], headers=headers(live)).json()
    assert (document["id"], document["name"], document["version"]) == (document_id, "chunked.txt", 1)
    download = requests.get(f"{state.headers['Hub-Document-Url']}download/", headers=headers(live))
    assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(content).hexdigest()
    assert not tus.part_path(live["alpha"].schema_name, first.url.rsplit("/", 1)[1]).exists()


def test_creation_with_upload_into_a_folder_and_a_new_version(live, db):
    folder = requests.post(
        f"http://alpha.localhost:{live['port']}/api/v1/content/folders/",
        json={"name": f"tus {uuid.uuid4().hex[:6]}"},
        headers=headers(live),
    ).json()
    answer = requests.post(
        url(live), data=PDF,
        headers=headers(live, **{
            "Upload-Length": str(len(PDF)), "Content-Type": "application/offset+octet-stream",
            "Upload-Metadata": f"filename {base64.b64encode(b'deal.pdf').decode()},folder "
            + base64.b64encode(str(folder["id"]).encode()).decode(),
        }),
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.headers["Upload-Offset"] == str(len(PDF))
    document_id = answer.headers["Hub-Document"]
    document = requests.get(answer.headers["Hub-Document-Url"], headers=headers(live)).json()
    assert document["folder"] == folder["id"] and document["mime_type"] == "application/pdf"

    again = PDF.replace(b"%%EOF", b"%%EOF\n% second")
    version = create(live, len(again), document=document_id, note="signed")
    assert version.status_code == 201
    done = patch(live, version.headers["Location"], again, 0)
    assert done.status_code == 204 and done.headers["Hub-Document"] == document_id
    versions = requests.get(f"{answer.headers['Hub-Document-Url']}versions/", headers=headers(live)).json()
    assert [(v["number"], v["note"]) for v in versions] == [(2, "signed"), (1, "")]


def test_a_chunk_whose_checksum_does_not_match_is_refused_with_460_and_not_kept(live, db):
    location = create(live, 10).headers["Location"]
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    answer = patch(live, location, b"0123456789", 0, **{"Upload-Checksum": f"sha256 {wrong}"})
    assert answer.status_code == 460
    assert "checksum" in answer.json()["detail"]
    assert requests.head(location, headers=headers(live)).headers["Upload-Offset"] == "0"
    right = base64.b64encode(hashlib.sha256(b"01234").digest()).decode()
    assert patch(live, location, b"01234", 0, **{"Upload-Checksum": f"sha256 {right}"}).status_code == 204
    unknown = patch(live, location, b"56789", 5, **{"Upload-Checksum": "crc32 AAAA"})
    assert unknown.status_code == 400 and "crc32" in unknown.json()["detail"]


def test_bytes_at_the_wrong_offset_are_refused_with_409(live, db):
    location = create(live, 10).headers["Location"]
    assert patch(live, location, b"01234", 0).status_code == 204
    answer = patch(live, location, b"56789", 3)
    assert answer.status_code == 409
    assert answer.json()["detail"] == "The upload is at byte 5, not 3: resume from there."
    too_many = patch(live, location, b"5678901234", 5)
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "file"
    assert requests.head(location, headers=headers(live)).headers["Upload-Offset"] == "5"


def test_a_file_larger_than_the_plan_allows_is_refused_before_any_byte_is_sent(live, tmp_path, db):
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(26 * 2**20)  # sparse: 26 MB the free plan refuses; none of it is read
    before = len(uploads_of(live["alpha"]))
    uploader = Uploader(str(big), client=client(live), metadata={"filename": "big.bin"})
    with pytest.raises(TusCommunicationError) as refused:
        uploader.upload()
    assert refused.value.status_code == 413
    assert b"your plan allows 25.0\xc2\xa0MB at most per file" in refused.value.response_content
    assert len(uploads_of(live["alpha"])) == before


def test_another_tenant_and_another_member_cannot_see_or_touch_an_upload(live, db):
    location = create(live, 10).headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    beta_location = url(live, "beta") + upload_id
    for who, target in (("beta", beta_location), ("other", location)):
        assert requests.head(target, headers=headers(live, who)).status_code == 404
        assert patch(live, target, b"0123456789", 0, who=who).status_code == 404
        assert requests.delete(target, headers=headers(live, who)).status_code == 404
    assert requests.head(location, headers=headers(live)).headers["Upload-Offset"] == "0"


def test_termination_deletes_the_upload_and_its_bytes(live, db):
    location = create(live, 10).headers["Location"]
    patch(live, location, b"01234", 0)
    part = tus.part_path(live["alpha"].schema_name, location.rsplit("/", 1)[1])
    assert part.read_bytes() == b"01234"
    assert requests.delete(location, headers=headers(live)).status_code == 204
    assert not part.exists()
    assert requests.head(location, headers=headers(live)).status_code == 404


@pytest.mark.parametrize(
    ("length", "metadata", "field", "message"),
    [
        (0, {"filename": "empty.txt"}, "file", "The file is empty."),
        (10, {"filename": "x\ny.txt"}, "filename", "Names cannot contain control characters"),
        (10, {"filename": "../x.txt"}, "filename", "Names cannot contain / or"),
        (10, {"filename": "a.txt", "folder": "999999"}, "folder", "No such folder."),
        (10, {"filename": "a.txt", "folder": "nine"}, "folder", "An id is a number."),
    ],
)
def test_bad_creations_are_refused_in_words_naming_the_field(live, db, length, metadata, field, message):
    before = len(uploads_of(live["alpha"]))
    answer = create(live, length, **metadata)
    assert answer.status_code == 422 and answer.headers["Content-Type"] == "application/problem+json"
    error = answer.json()["errors"][0]
    assert error["field"] == field and error["message"].startswith(message)
    assert "Location" not in answer.headers
    assert len(uploads_of(live["alpha"])) == before


def test_a_file_whose_name_lies_about_its_type_is_refused_and_nothing_is_left(live, db):
    text = b"not a PDF at all, just words\n" * 10
    location = create(live, len(text), filename="lying.pdf").headers["Location"]
    answer = patch(live, location, text, 0)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["message"].startswith("The name ends in .pdf but the file is")
    assert documents_named(live["alpha"], "lying.pdf") == []
    assert not tus.part_path(live["alpha"].schema_name, location.rsplit("/", 1)[1]).exists()
    assert requests.head(location, headers=headers(live)).status_code == 404


def test_requests_without_the_protocol_version_or_credentials_are_refused(live, db):
    answer = requests.post(
        url(live), headers={"Authorization": f"Bearer {live['keys']['alpha']}", "Upload-Length": "5"}
    )
    assert answer.status_code == 412 and answer.headers["Tus-Version"] == "1.0.0"
    assert "Tus-Resumable: 1.0.0" in answer.json()["detail"]
    assert requests.post(url(live), headers={"Tus-Resumable": "1.0.0", "Upload-Length": "5"}).status_code in (401, 403)
    wrong_type = patch(live, create(live, 5).headers["Location"], b"01234", 0, **{"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


def test_stale_uploads_expire_with_their_bytes(tenant_a, owner_a):
    upload = tus.upload_create(tenant=tenant_a, actor=owner_a, length=10, metadata_header="filename YS50eHQ=")
    part = tus.part_path(tenant_a.schema_name, upload.pk)
    assert part.exists() and upload.filename == "a.txt"
    assert tus.uploads_expire(tenant=tenant_a) == 0
    with schema_context(tenant_a.schema_name):
        Upload.objects.filter(pk=upload.pk).update(expires_at=upload.created)
    assert tus.uploads_expire(tenant=tenant_a) == 1
    assert not part.exists()
    with schema_context(tenant_a.schema_name):
        assert not Upload.objects.filter(pk=upload.pk).exists()


def test_an_upload_resumes_on_another_server_process(live, tmp_path, db):
    """Nothing of an upload lives in the server's memory: a second process (as after a restart)
    takes it up at the offset the first one stored."""
    content = b"line of text\n" * 30_000
    path = tmp_path / "restart.txt"
    path.write_bytes(content)
    first = Uploader(str(path), client=client(live), chunk_size=100_000, metadata={"filename": "restart.txt"})
    first.upload(stop_at=200_000)
    port = free_port()
    env = subprocess_env(HUB_BASE_DOMAIN=f"localhost:{live['port']}", DJANGO_ALLOWED_HOSTS="localhost,.localhost")
    with uvicorn(port, env):
        moved = first.url.replace(f":{live['port']}/", f":{port}/")
        again = Uploader(str(path), url=moved, client=client(live), chunk_size=100_000)
        assert again.offset == 200_000
        again.upload()
        state = requests.head(moved, headers=headers(live))
    assert state.headers["Upload-Offset"] == str(len(content)) and state.headers["Hub-Document"]


def test_a_viewer_cannot_start_an_upload(tenant_a):
    viewer = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="viewer").user)
    answer = viewer.post(
        "/api/v1/content/uploads/",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": "5", "Upload-Metadata": "filename YS50eHQ="},
    )
    # (A viewer may upload where a folder is shared with them as editor: tests/content/test_api_sharing.py.)
    assert answer.status_code == 403
    assert answer.json()["detail"] == "You may look at this folder's files but not change them."


def test_uploads_under_way_count_against_the_quota(tenant_a, owner_a, settings):
    with schema_context(tenant_a.schema_name):
        stored = selectors.storage_used(tenant=tenant_a)["used_bytes"]  # what other tests left
    settings.HUB_CONTENT_LIMITS = {"free": {"max_file_bytes": 600, "quota_bytes": stored + 1000}}
    tus.upload_create(tenant=tenant_a, actor=owner_a, length=600, metadata_header="filename YS50eHQ=")
    with pytest.raises(tus.TooLarge) as refused:
        tus.upload_create(tenant=tenant_a, actor=owner_a, length=500, metadata_header="filename Yi50eHQ=")
    assert "Your organisation's storage is full" in str(refused.value)
    with schema_context(tenant_a.schema_name):
        for upload in Upload.objects.all():
            tus.upload_delete(tenant=tenant_a, upload=upload)
