"""Content's services: folders, documents, versions over content-addressed blobs, locks, trash."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.content import selectors, services, storage
from apps.content.models import Blob, Document, Version
from apps.events.models import Event
from tests.factories import MembershipFactory

from .conftest import PDF, png_bytes, text_file


def upload(tenant, user, text="hello", name="notes.txt", **kwargs) -> Document:
    # (The file object keeps a plain name: Django's own upload objects refuse or cut bad ones.)
    return services.document_upload(tenant=tenant, actor=user, fileobj=text_file(text), name=name, **kwargs)


def test_an_upload_is_a_document_with_its_first_version_and_its_event(tenant_a, owner_a, blobs_dir):
    document = upload(tenant_a, owner_a, "first draft", note="from the meeting", tags=["Minutes", "minutes", "2026"])
    with tenant_context(tenant_a):
        [version] = Version.objects.filter(document=document)
        assert (version.number, version.note, version.created_by) == (1, "from the meeting", owner_a)
        assert version.blob.mime_type == "text/plain" and version.blob.size == len("first draft")
        assert sorted(t.name for t in document.tags.all()) == ["2026", "Minutes"]  # one tag per name, any case
        path = blobs_dir / storage.blob_name(tenant_a.schema_name, version.blob.sha256)
        assert path.read_bytes() == b"first draft"
        [event] = Event.objects.filter(type="content.document_uploaded")
        assert event.payload["document_id"] == document.pk and event.payload["version"] == 1


def test_identical_bytes_are_stored_once_and_an_unchanged_version_adds_nothing(tenant_a, owner_a):
    first = upload(tenant_a, owner_a, "same bytes", "a.txt")
    second = upload(tenant_a, owner_a, "same bytes", "b.txt")
    with tenant_context(tenant_a):
        assert Blob.objects.count() == 1
        assert first.current.blob_id == second.current.blob_id
        again = services.document_version_add(
            tenant=tenant_a, actor=owner_a, document=first, fileobj=text_file("same bytes")
        )
        assert again.number == 1 and first.versions.count() == 1
        changed = services.document_version_add(
            tenant=tenant_a, actor=owner_a, document=first, fileobj=text_file("new bytes")
        )
        assert changed.number == 2 and Blob.objects.count() == 2
        assert selectors.storage_used(tenant=tenant_a)["used_bytes"] == len("same bytes") + len("new bytes")


def test_restoring_an_old_version_makes_a_new_one_with_its_bytes(tenant_a, owner_a):
    document = upload(tenant_a, owner_a, "v1")
    services.document_version_add(tenant=tenant_a, actor=owner_a, document=document, fileobj=text_file("v2"))
    with tenant_context(tenant_a):
        old = document.versions.get(number=1)
        restored = services.document_version_restore(tenant=tenant_a, actor=owner_a, document=document, version=old)
        assert (restored.number, restored.note) == (3, "Restored from version 1")
        assert restored.blob_id == old.blob_id
        assert [v.number for v in selectors.version_list(document=document)] == [3, 2, 1]


def test_a_checked_out_document_refuses_someone_elses_version_with_who_and_until_when(tenant_a, owner_a):
    document = upload(tenant_a, owner_a, "v1")
    jane = MembershipFactory(tenant=tenant_a, role="member", user__full_name="Jane Doe").user
    services.document_lock(tenant=tenant_a, actor=jane, document=document)
    with pytest.raises(
        services.DocumentLocked, match="Jane Doe checked “notes.txt” out at .* your version was not saved"
    ):
        services.document_version_add(tenant=tenant_a, actor=owner_a, document=document, fileobj=text_file("mine"))
    with tenant_context(tenant_a):
        assert document.versions.count() == 1  # nothing saved
    # Jane may save; once she checks it in, so may anyone.
    services.document_version_add(tenant=tenant_a, actor=jane, document=document, fileobj=text_file("hers"))
    services.document_unlock(tenant=tenant_a, actor=jane, document=document)
    assert (
        services.document_version_add(
            tenant=tenant_a, actor=owner_a, document=document, fileobj=text_file("mine")
        ).number
        == 3
    )


def test_a_check_out_lapses(tenant_a, owner_a, settings):
    document = upload(tenant_a, owner_a, "v1")
    jane = MembershipFactory(tenant=tenant_a, role="member").user
    services.document_lock(tenant=tenant_a, actor=jane, document=document)
    with tenant_context(tenant_a):
        Document.objects.filter(pk=document.pk).update(
            locked_at=timezone.now() - timedelta(hours=settings.HUB_CONTENT_LOCK_HOURS, minutes=1)
        )
        document.refresh_from_db()
    assert (
        services.document_version_add(tenant=tenant_a, actor=owner_a, document=document, fileobj=text_file("v2")).number
        == 2
    )


@pytest.mark.parametrize(
    "name, message",
    [
        ("../../etc/passwd", "cannot contain /"),
        ("a\\b.txt", "cannot contain /"),
        ("line\nbreak.txt", "control characters"),
        ("x" * 1000 + ".txt", r"at most 255 characters \(this one has 1,004\)"),
        ("..", "are not names"),
        ("   ", "Give it a name"),
    ],
    ids=["slashes", "backslash", "newline", "1000-characters", "dot-dot", "blank"],
)
def test_bad_names_are_refused_with_the_reason(tenant_a, owner_a, name, message):
    with pytest.raises(ValidationError, match=message):
        upload(tenant_a, owner_a, "x", name=name)
    with tenant_context(tenant_a):
        assert not Document.objects.exists() and not Blob.objects.exists()


def test_an_empty_file_is_refused(tenant_a, owner_a):
    with pytest.raises(ValidationError, match="The file is empty"):
        upload(tenant_a, owner_a, "", "empty.txt")


def test_a_file_whose_name_lies_about_its_type_is_refused(tenant_a, owner_a):
    fake = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 200)  # not a PDF
    with pytest.raises(ValidationError, match=r"The name ends in \.pdf but the file is"):
        services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=fake, name="invoice.pdf")
    # The truth under any name is fine; so is a PDF called .pdf.
    services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=SimpleUploadedFile("x.pdf", PDF), name="x.pdf")
    with tenant_context(tenant_a):
        assert Blob.objects.get().mime_type == "application/pdf"


def test_a_picture_that_would_decompress_into_a_huge_bitmap_is_refused(tenant_a, owner_a):
    bomb = SimpleUploadedFile("huge.png", png_bytes(12_000, 10_000))  # 120 megapixels, a few kB
    with pytest.raises(ValidationError, match="12,000 × 10,000 pixels: at most 100 megapixels"):
        services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=bomb, name="huge.png")


def test_the_plans_file_size_and_storage_quota_are_enforced(tenant_a, owner_a, settings):
    settings.HUB_CONTENT_LIMITS = {"free": {"max_file_bytes": 10, "quota_bytes": 15}}
    with pytest.raises(ValidationError, match="larger than your plan allows"):
        upload(tenant_a, owner_a, "eleven char", "big.txt")
    upload(tenant_a, owner_a, "ten chars!", "one.txt")
    with pytest.raises(ValidationError) as refused:
        upload(tenant_a, owner_a, "ten more!!", "two.txt")
    assert "storage is full: 10\xa0bytes of 15\xa0bytes used" in refused.value.messages[0]
    upload(tenant_a, owner_a, "ten chars!", "copy.txt")  # the same bytes take no more room


def test_names_are_unique_per_folder_regardless_of_case(tenant_a, owner_a):
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Reports")
    upload(tenant_a, owner_a, "a", "Q1.txt", folder=folder)
    with pytest.raises(ValidationError, match="already a document called “q1.txt” here"):
        upload(tenant_a, owner_a, "b", "q1.txt", folder=folder)
    upload(tenant_a, owner_a, "c", "Q1.txt")  # another folder (the top): fine
    with pytest.raises(ValidationError, match="already a folder"):
        services.folder_create(tenant=tenant_a, actor=owner_a, name="reports")


def test_a_folder_cannot_move_inside_itself(tenant_a, owner_a):
    outer = services.folder_create(tenant=tenant_a, actor=owner_a, name="Outer")
    inner = services.folder_create(tenant=tenant_a, actor=owner_a, name="Inner", parent=outer)
    with pytest.raises(ValidationError, match="cannot go inside itself"):
        services.folder_update(tenant=tenant_a, actor=owner_a, folder=outer, parent=inner)


def test_trash_hides_restores_and_purges_and_a_blob_goes_only_with_its_last_version(tenant_a, owner_a, blobs_dir):
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Old")
    kept = upload(tenant_a, owner_a, "shared bytes", "kept.txt")
    doomed = upload(tenant_a, owner_a, "shared bytes", "doomed.txt", folder=folder)
    only = services.document_version_add(
        tenant=tenant_a, actor=owner_a, document=doomed, fileobj=text_file("own bytes")
    )
    with tenant_context(tenant_a):
        own_path = blobs_dir / storage.blob_name(tenant_a.schema_name, only.blob.sha256)
        shared_path = blobs_dir / storage.blob_name(tenant_a.schema_name, kept.current.blob.sha256)
    services.folder_trash(tenant=tenant_a, actor=owner_a, folder=folder)
    with tenant_context(tenant_a):
        assert list(selectors.document_list(everywhere=True)) == [kept]  # inside a trashed folder: hidden
        assert list(selectors.folder_list()) == []
    services.folder_restore(tenant=tenant_a, actor=owner_a, folder=folder)
    services.document_trash(tenant=tenant_a, actor=owner_a, document=doomed)
    with tenant_context(tenant_a):
        assert list(selectors.trash_list()[1]) == [doomed]
    services.document_purge(tenant=tenant_a, actor=owner_a, document=doomed)
    with tenant_context(tenant_a):
        assert not Document.objects.filter(pk=doomed.pk).exists()
        assert list(Blob.objects.values_list("sha256", flat=True)) == [kept.current.blob.sha256]
    assert not own_path.exists()  # no version refers to it any more
    assert shared_path.read_bytes() == b"shared bytes"  # kept.txt still does


def test_the_daily_purge_empties_what_has_been_in_the_trash_long_enough(tenant_a, owner_a, settings):
    old = upload(tenant_a, owner_a, "old", "old.txt")
    recent = upload(tenant_a, owner_a, "recent", "recent.txt")
    for document in (old, recent):
        services.document_trash(tenant=tenant_a, actor=owner_a, document=document)
    with tenant_context(tenant_a):
        Document.objects.filter(pk=old.pk).update(
            trashed_at=timezone.now() - timedelta(days=settings.HUB_CONTENT_TRASH_DAYS + 1)
        )
    assert services.trash_purge_expired(tenant=tenant_a) == 1
    with tenant_context(tenant_a):
        assert list(Document.objects.all()) == [recent]


def test_a_copy_refers_to_the_same_bytes(tenant_a, owner_a):
    document = upload(tenant_a, owner_a, "original", "a.txt", tags=["x"])
    copy = services.document_copy(tenant=tenant_a, actor=owner_a, document=document, folder=None, name="b.txt")
    with tenant_context(tenant_a):
        assert copy.current.blob_id == document.current.blob_id and Blob.objects.count() == 1
        assert [t.name for t in copy.tags.all()] == ["x"]
        assert copy.current.note == "Copied from “a.txt”"
