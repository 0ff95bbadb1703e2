"""Content's files travel with a tenant's backup (apps.content.backup, a BackupPart with files):
backup → drop the tenant and its files → restore → every download equals what was uploaded."""

import gzip
import random
import shutil
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from apps.content import processing, services
from apps.content.models import Blob, Document
from apps.identity.services import organisation_provision
from apps.tenancy.backup import backup_manifest
from apps.tenancy.models import Tenant
from apps.tenancy.services import tenant_delete
from tests.conftest import PASSWORD, client_for

from .conftest import png_bytes

pytestmark = pytest.mark.django_db
SLUG = "files-co"


@pytest.fixture
def filed(blobs_dir):
    """A tenant with a text file in two versions, a copy, a processed picture and a larger file."""
    tenant, owner = organisation_provision(
        name="Files Co", slug=SLUG, owner_email="owner@files.example.com", owner_password=PASSWORD, plan="team"
    )
    uploads = {
        "notes.txt": b"first words",
        "photo.png": png_bytes(40, 30),
        # Last: a restore cut short stops inside it. Seeded: random bytes are now and then taken
        # for a DOS executable by libmagic, which the .bin name does not allow.
        "big.bin": random.Random(7).randbytes(300_000),
    }
    documents = {}
    for name, content in uploads.items():
        documents[name] = services.document_upload(
            tenant=tenant, actor=owner, fileobj=SimpleUploadedFile(name, content), name=name
        )
    services.document_version_add(
        tenant=tenant, actor=owner, document=documents["notes.txt"], fileobj=SimpleUploadedFile("n", b"second words")
    )
    services.version_process(tenant=tenant, version_id=documents["photo.png"].current_id)
    with schema_context(tenant.schema_name):
        services.document_copy(tenant=tenant, actor=owner, document=documents["notes.txt"], folder=None, name="c.txt")
    yield tenant
    for schema in ("t_files_co", "t_files_copy", "t_files_broken"):
        shutil.rmtree(blobs_dir / schema, ignore_errors=True)


def downloads(tenant) -> dict[tuple[str, int], bytes]:
    """Every version of every document, as downloaded by the tenant's owner."""
    client = client_for(tenant, _owner())
    with schema_context(tenant.schema_name):
        versions = [(d.pk, d.name, v.number) for d in Document.objects.all() for v in d.versions.all()]
    got = {}
    for pk, name, number in versions:
        response = client.get(f"/content/documents/{pk}/versions/{number}/download/")
        assert response.status_code == 200, (name, number)
        got[(name, number)] = b"".join(response.streaming_content)
    return got


def _owner():
    from apps.identity.models import User

    return User.objects.get(email="owner@files.example.com")


def _backup(tenant, path) -> str:
    out = StringIO()
    call_command("backup_tenant", tenant.slug, "--output", str(path), stdout=out)
    return out.getvalue()


def test_backup_drop_restore_gives_every_download_back(filed, tmp_path, blobs_dir):
    before = downloads(filed)
    assert len(before) == 5 and before[("notes.txt", 1)] == b"first words"
    with schema_context(filed.schema_name):
        picture = Blob.objects.get(renditions__contains=["thumb"])
    path = tmp_path / "files.tar.gz"
    out = _backup(filed, path)
    # 4 blobs (the copy and the unchanged bytes share one), and the picture's thumb and web
    assert "6 files" in out and backup_manifest(path)["files"] == {"content.Blob": 6}

    tenant_delete(tenant=filed)
    shutil.rmtree(blobs_dir / filed.schema_name)  # the files are gone too

    out = StringIO()
    call_command("restore_tenant", str(path), stdout=out)
    assert "6 files" in out.getvalue()
    restored = Tenant.objects.get(slug=SLUG)
    assert downloads(restored) == before
    thumb = blobs_dir / processing.derived_name(restored.schema_name, picture.sha256, "thumb")
    assert thumb.exists()
    shown = f"/content/documents/{_pk(restored, 'photo.png')}/versions/1/picture/thumb.webp"
    response = client_for(restored, _owner()).get(shown)
    assert response.status_code == 200 and b"".join(response.streaming_content) == thumb.read_bytes()


def _pk(tenant, name) -> int:
    with schema_context(tenant.schema_name):
        return Document.objects.get(name=name).pk


def test_a_restore_as_another_slug_writes_the_files_under_its_own_prefix(filed, tmp_path, blobs_dir):
    path = tmp_path / "files.tar.gz"
    _backup(filed, path)
    before = downloads(filed)
    call_command("restore_tenant", str(path), "--slug", "files-copy", stdout=StringIO())
    copy = Tenant.objects.get(slug="files-copy")
    assert downloads(copy) == before
    assert _files(blobs_dir / copy.schema_name) == _files(blobs_dir / filed.schema_name)
    # Purging in the copy leaves the original's bytes alone.
    with schema_context(copy.schema_name):
        document = Document.objects.get(name="big.bin")
        services.document_trash(tenant=copy, actor=None, document=document)
        services.document_purge(tenant=copy, actor=None, document=document)
    assert before[("big.bin", 1)] == downloads(filed)[("big.bin", 1)]


def _files(root) -> list:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_a_restore_cut_short_in_the_files_leaves_no_tenant_and_no_files(filed, tmp_path, blobs_dir):
    path = tmp_path / "files.tar.gz"
    _backup(filed, path)
    raw = gzip.decompress(path.read_bytes())
    broken = tmp_path / "broken.tar.gz"
    files_start = raw.index(b"files/content.Blob/")
    cut = files_start + (len(raw) - files_start) // 2  # the files are mostly big.bin: inside it
    broken.write_bytes(gzip.compress(raw[:cut]))
    with pytest.raises(CommandError) as exc:
        call_command("restore_tenant", str(broken), "--slug", "files-broken", stdout=StringIO())
    assert "\n" not in str(exc.value)
    assert not Tenant.objects.filter(slug="files-broken").exists()
    left = [p for p in (blobs_dir / "t_files_broken").rglob("*") if p.is_file()]
    assert left == []  # the files written before the cut were removed
