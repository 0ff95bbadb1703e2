"""Data residency: a tenant's region is recorded when it is created, shown, and decides where its
files and exports are kept (documents, copies of people's data, reports); a region that is not
configured is refused with the reason, and a configuration naming missing storages fails the checks."""

import os
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context, tenant_context

from apps.compliance import data_requests
from apps.content import services as content
from apps.identity.models import Membership
from apps.tenancy.regions import check_regions, region_of
from apps.tenancy.services import tenant_delete
from tests.conftest import client_for, provision_afresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_regions(settings, tmp_path):
    """A "local" region (the default storages) and "eu" with storages of its own."""
    settings.MEDIA_ROOT = str(tmp_path / "local")
    settings.STORAGES = {
        **settings.STORAGES,
        "files-eu": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "eu"},
        },
        "content-eu": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "eu-content", "allow_overwrite": True},
        },
    }
    settings.HUB_REGIONS = {
        "local": {"label": "This server", "default": "default", "content": "content"},
        "eu": {"label": "European Union", "default": "files-eu", "content": "content-eu"},
    }
    return tmp_path


@pytest.fixture
def eu_tenant(two_regions):
    tenant, owner = provision_afresh("resident-eu", region="eu")
    assert tenant.region == "eu"
    yield tenant, owner
    tenant_delete(tenant=tenant)


def _files(root) -> list[str]:
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


def test_a_tenant_s_files_and_exports_stay_in_its_region(eu_tenant, two_regions):
    tenant, owner = eu_tenant
    assert region_of(tenant.schema_name) == "eu"
    with tenant_context(tenant):
        content.document_upload(
            tenant=tenant, actor=owner, fileobj=SimpleUploadedFile("notes.txt", b"resident"), name="notes.txt"
        )
        member = Membership.objects.get(tenant=tenant, user=owner)
        request = data_requests.data_request_open(tenant=tenant, actor=member, kind="access")
        data_requests.data_request_build(request_id=request.pk, tenant=tenant)
    assert any(name.endswith(".zip") for name in _files(two_regions / "eu"))
    assert _files(two_regions / "eu-content")
    assert not _files(two_regions / "local")  # nothing of the tenant's in the default region's storage
    client = client_for(tenant, owner)
    page = client.get(f"/compliance/requests/{request.pk}/").content.decode()
    link = page.split('href="/compliance/requests/download/', 1)[1].split('"', 1)[0]
    assert client.get(f"/compliance/requests/download/{link}").status_code == 200
    assert "Data kept in: European Union" in client.get("/settings/").content.decode()


def test_an_unknown_region_is_refused_and_nothing_is_created(two_regions):
    with pytest.raises(CommandError, match="region: Choose one of: local, eu"):
        call_command("create_tenant", "Mars Co", "mars-co", "owner@mars.example.com", "--region", "mars",
                     stdout=StringIO())  # fmt: skip
    from apps.tenancy.models import Tenant

    assert not Tenant.objects.filter(slug="mars-co").exists()


def test_the_command_records_the_region(two_regions):
    out = StringIO()
    call_command("create_tenant", "Euro Co", "euro-co", "owner@euro.example.com", "--region", "eu", stdout=out)
    from apps.tenancy.models import Tenant

    made = Tenant.objects.get(slug="euro-co")
    try:
        assert made.region == "eu" and "(region: European Union)" in out.getvalue()
        with schema_context(made.schema_name):
            assert region_of() == "eu"
    finally:
        tenant_delete(tenant=made)


def test_a_region_naming_a_missing_storage_fails_the_checks(settings):
    settings.HUB_REGIONS = {"local": {"label": "Here", "default": "default", "content": "nowhere"}}
    settings.HUB_DEFAULT_REGION = "elsewhere"
    messages = [e.msg for e in check_regions()]
    assert "HUB_DEFAULT_REGION 'elsewhere' is not in HUB_REGIONS." in messages
    assert "HUB_REGIONS['local']['content'] names 'nowhere', which is not in STORAGES." in messages


def test_a_backup_restores_into_the_same_region(eu_tenant, two_regions):
    tenant, owner = eu_tenant
    with tenant_context(tenant):
        content.document_upload(
            tenant=tenant, actor=owner, fileobj=SimpleUploadedFile("kept.txt", b"kept in the eu"), name="kept.txt"
        )
    path = two_regions / "resident.tar.gz"
    call_command("backup_tenant", tenant.slug, "--output", str(path), stdout=StringIO())
    blobs = two_regions / "eu-content"
    for name in _files(blobs):
        os.remove(name)  # the region's copy is lost: the backup brings it back there
    call_command("restore_tenant", str(path), "--replace", stdout=StringIO())
    from apps.tenancy.models import Tenant

    restored = Tenant.objects.get(slug=tenant.slug)
    assert restored.region == "eu"
    assert [open(name, "rb").read() for name in _files(blobs)] == [b"kept in the eu"]
    assert not _files(two_regions / "local")
