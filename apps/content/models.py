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
    # A PDF's page count (its pages' previews are drawn on first request: processing.page_preview).
    pages = models.PositiveIntegerField(null=True, blank=True)

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
    # The type of each metadata field that is not text: {"amount": "number", "due": "date"}.
    metadata_types = models.JSONField(default=dict, blank=True)
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


class ShareLink(models.Model):
    """A public download link of a document: its address carries a random token (only its SHA-256
    is kept, signed with the site's key and the tenant's schema in the URL), it lapses at
    `expires_at`, may need a password (hashed like account passwords) and may allow only so many
    downloads. `version` pins one version; without it the link always gives the current one."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="share_links")
    version = models.ForeignKey(Version, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    password = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField()
    max_downloads = models.PositiveIntegerField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"link to {self.document.name}"


class FolderShare(models.Model):
    """A folder shared with a member, with a role in it and every folder below it (see
    apps.content.selectors.folder_role)."""

    VIEWER, EDITOR = "viewer", "editor"
    ROLES = [(VIEWER, "Viewer"), (EDITOR, "Editor")]

    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10, choices=ROLES)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["folder", "user"]
        constraints = [models.UniqueConstraint("folder", "user", name="content_foldershare_unique")]

    def __str__(self):
        return f"{self.folder} → {self.user} ({self.role})"


class Comment(models.Model):
    """A comment on a document or a folder (exactly one); `parent` makes it a reply in a thread
    (replies are one level deep: a reply to a reply joins the same thread). Threads are resolved
    and reopened as a whole, on their first comment. Each edit keeps the text before it
    (CommentRevision)."""

    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    folder = models.ForeignKey(Folder, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(document__isnull=False, folder__isnull=True)
                | models.Q(document__isnull=True, folder__isnull=False),
                name="content_comment_on_one_thing",
            )
        ]

    def __str__(self):
        return self.body[:40]


class CommentRevision(models.Model):
    """The text of a comment before one of its edits."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"earlier text of comment {self.comment_id}"


class SearchWord(models.Model):
    """Every word the tenant's documents hold (from their search vectors): what a misspelt search
    word is matched against (pg_trgm similarity) when the full-text search finds little."""

    word = models.CharField(max_length=100, primary_key=True)

    class Meta:
        indexes = [GistIndex(fields=["word"], opclasses=["gist_trgm_ops"], name="content_searchword_trgm")]

    def __str__(self):
        return self.word
