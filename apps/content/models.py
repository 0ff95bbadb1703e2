"""Content: folders, documents and their versions, over content-addressed blobs.

A Blob is a file's bytes, named by their SHA-256 and stored once per tenant however many
versions and copies refer to it; it is deleted only when no version refers to it any more.
A Document is a named file in a folder; each change of its bytes is a new Version (who, when, a
note) pointing at a blob. Trash is a date (`trashed_at`): trashed things are hidden and purged
after HUB_CONTENT_TRASH_DAYS.
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.functions import Lower


class Blob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        RUNNING = "running", "Being processed"
        DONE = "done", "Processed"
        FAILED = "failed", "Processing failed"

    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    size = models.BigIntegerField()
    # What the bytes are (libmagic), never what the name says.
    mime_type = models.CharField("type", max_length=255)
    created = models.DateTimeField(auto_now_add=True)
    # Processing (apps.content.processing): done once per blob, whatever number of versions share it.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField("why it failed", max_length=500, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    text = models.TextField("extracted text", blank=True)
    # Which derived pictures exist under <schema>/derived/<sha256>/: "thumb", "web", "preview".
    renditions = models.JSONField(default=list, blank=True)

    def __str__(self):
        return self.sha256[:12]


class Tag(models.Model):
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="content_tag_name_unique_ci")]

    def __str__(self):
        return self.name


class Folder(models.Model):
    name = models.CharField(max_length=255)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    trashed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # One live folder of a name (case-insensitive) per parent; the root is parent NULL.
            models.UniqueConstraint(
                "parent", Lower("name"), condition=models.Q(trashed_at__isnull=True), nulls_distinct=False,
                name="content_folder_name_unique",
            ),
        ]  # fmt: skip

    def __str__(self):
        return self.name


class Document(models.Model):
    name = models.CharField(max_length=255)
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="documents")
    current = models.ForeignKey(
        "Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="current version"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="documents")
    # Custom metadata fields: {"invoice number": "2026-114", "amount": 120.5}.
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Checked out: only this person may add versions until they check it in (or it expires).
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    locked_at = models.DateTimeField(null=True, blank=True)
    trashed_at = models.DateTimeField(null=True, blank=True)
    # Full-text search: name (A), tags and metadata values (B), extracted text (C); kept by
    # apps.content.search.documents_reindex.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [GinIndex(fields=["search_vector"], name="content_document_search")]
        constraints = [
            models.UniqueConstraint(
                "folder", Lower("name"), condition=models.Q(trashed_at__isnull=True), nulls_distinct=False,
                name="content_document_name_unique",
            ),
        ]  # fmt: skip

    def __str__(self):
        return self.name


class Version(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="versions")
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint("document", "number", name="content_version_number_unique")]

    def __str__(self):
        return f"{self.document.name} v{self.number}"


class ContentSettings(models.Model):
    """The tenant's choices for its files (one row, made on first read)."""

    keep_image_location = models.BooleanField(
        "keep the location in pictures",
        default=False,
        help_text="Off: the GPS position a camera or phone wrote into a picture is removed when it is uploaded.",
    )
    # Tesseract's language codes, "+"-joined as tesseract takes them ("eng+deu").
    ocr_languages = models.CharField("languages of scanned text", max_length=100, default="eng")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "files settings"
        verbose_name_plural = "files settings"

    def __str__(self):
        return "Files settings"


class Upload(models.Model):
    """A resumable (tus) upload in progress: its bytes so far sit in a file under the tenant's
    prefix (apps.content.tus.part_path); `offset` is how many of them are safely written, so the
    upload resumes from there after a server restart. On the last byte it becomes a document (or a
    version of `document_id`) and `result_id` names that document."""

    id = models.UUIDField(primary_key=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    filename = models.CharField(max_length=255)
    folder_id = models.BigIntegerField(null=True, blank=True)
    document_id = models.BigIntegerField(null=True, blank=True)  # add a version to this document
    note = models.CharField(max_length=500, blank=True)
    metadata = models.TextField(blank=True)  # the Upload-Metadata header as sent, echoed by HEAD
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    result_id = models.BigIntegerField(null=True, blank=True)  # the document, once complete

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="content_upload_expires")]

    def __str__(self):
        return f"{self.filename} ({self.offset}/{self.length})"


class SearchWord(models.Model):
    """Every word the tenant's documents hold (from their search vectors): what a misspelt search
    word is matched against (pg_trgm similarity) when the full-text search finds little."""

    word = models.CharField(max_length=100, primary_key=True)

    class Meta:
        indexes = [GistIndex(fields=["word"], opclasses=["gist_trgm_ops"], name="content_searchword_trgm")]

    def __str__(self):
        return self.word
