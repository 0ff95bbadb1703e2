from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer, StrictCharField

from .. import search
from ..metadata import metadata_fields
from ..models import Blob, Comment, Document, Folder, FolderShare, ShareLink, Version


class MetadataFieldIn(serializers.Serializer):
    key = StrictCharField(max_length=60)
    type = serializers.ChoiceField(choices=["text", "number", "date"], default="text")
    value = serializers.JSONField(allow_null=True, help_text="Text, a number, or a date as YYYY-MM-DD (null: empty).")


class MetadataFieldOut(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.ChoiceField(choices=["text", "number", "date"])
    value = serializers.JSONField()


class FolderSerializer(HubModelSerializer):
    parent = serializers.IntegerField(source="parent_id", read_only=True, allow_null=True)

    class Meta:
        model = Folder
        fields = ["id", "name", "parent", "created"]
        read_only_fields = ["id", "created"]


class FolderWriteSerializer(serializers.Serializer):
    name = StrictCharField(max_length=1000, required=False)
    parent = serializers.IntegerField(required=False, allow_null=True, help_text="A folder's id; null: the top.")


class DocumentSerializer(HubModelSerializer):
    folder = serializers.IntegerField(source="folder_id", read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    version = serializers.IntegerField(source="current.number", read_only=True, allow_null=True)
    size = serializers.IntegerField(source="current.blob.size", read_only=True, allow_null=True)
    mime_type = serializers.CharField(source="current.blob.mime_type", read_only=True, allow_null=True)
    sha256 = serializers.CharField(source="current.blob.sha256", read_only=True, allow_null=True)
    locked_by = serializers.EmailField(source="locked_by.email", read_only=True, allow_null=True)
    metadata_fields = serializers.SerializerMethodField()
    processing = serializers.ChoiceField(
        source="current.blob.status", choices=Blob.Status.choices, read_only=True, allow_null=True,
        help_text="The current version's processing (text, OCR, pictures): pending, running, done or failed.",
    )  # fmt: skip
    processing_error = serializers.CharField(
        source="current.blob.status_reason", read_only=True, allow_null=True, help_text="Why it failed, in words."
    )
    pictures = serializers.SerializerMethodField(help_text="The current version's thumbnail and web-size picture.")
    pages = serializers.IntegerField(
        source="current.blob.pages", read_only=True, allow_null=True,
        help_text="A PDF's page count (null for other files, or until processed); each page up to "
        "HUB_CONTENT_PREVIEW_PAGES has a preview at pages/{page}/.",
    )  # fmt: skip

    class Meta:
        model = Document
        fields = [
            "id", "name", "folder", "tags", "metadata", "metadata_fields", "version", "size", "mime_type", "sha256",
            "locked_by", "locked_at", "processing", "processing_error", "pictures", "pages", "created", "updated",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(MetadataFieldOut(many=True))
    def get_metadata_fields(self, document):
        return metadata_fields(document)

    def get_pictures(self, document) -> dict[str, str]:
        made = document.current.blob.renditions if document.current else []
        return {kind: f"/api/v1/content/documents/{document.pk}/pictures/{kind}/" for kind in made}


class DocumentUploadSerializer(serializers.Serializer):
    """multipart/form-data: no nulls, and metadata as JSON text."""

    file = serializers.FileField(allow_empty_file=True, use_url=False)
    name = StrictCharField(max_length=1000, required=False, help_text="Defaults to the file's name.")
    folder = serializers.IntegerField(required=False, min_value=1, help_text="A folder's id; the top without.")
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    tags = serializers.ListField(child=StrictCharField(max_length=60), required=False, default=list)
    metadata = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        help_text='A JSON object of fields and values: {"invoice": "2026-114"}',
    )


class DocumentUpdateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=1000, required=False)
    folder = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    tags = serializers.ListField(child=StrictCharField(max_length=60), required=False)
    metadata = serializers.DictField(
        required=False, help_text="Fields and values: numbers are number fields, the rest text."
    )
    metadata_fields = MetadataFieldIn(
        many=True, required=False, help_text="Fields with their types (replaces metadata)."
    )


class VersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class DocumentCopySerializer(serializers.Serializer):
    folder = serializers.IntegerField(required=False, allow_null=True)
    name = StrictCharField(max_length=1000, required=False)


class VersionSerializer(HubModelSerializer):
    size = serializers.IntegerField(source="blob.size", read_only=True)
    mime_type = serializers.CharField(source="blob.mime_type", read_only=True)
    sha256 = serializers.CharField(source="blob.sha256", read_only=True)
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)

    class Meta:
        model = Version
        fields = ["number", "size", "mime_type", "sha256", "note", "created_by", "created"]
        read_only_fields = fields


class StorageSerializer(serializers.Serializer):
    used_bytes = serializers.IntegerField()
    quota_bytes = serializers.IntegerField()
    max_file_bytes = serializers.IntegerField()


class DownloadLinkSerializer(HubModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True, allow_null=True)
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True)
    has_password = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = ShareLink
        fields = [
            "id", "version", "expires_at", "max_downloads", "downloads", "has_password", "state", "created_by",
            "created", "revoked_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_password(self, link) -> bool:
        return bool(link.password)

    def get_state(self, link) -> str:
        from ..sharing import link_state

        return {"Active": "active", "Expired": "expired", "Used up": "used_up", "Turned off": "revoked"}[
            link_state(link)
        ]


class DownloadLinkCreatedSerializer(DownloadLinkSerializer):
    url = serializers.CharField(read_only=True, help_text="The link's address: shown only in this answer.")

    class Meta(DownloadLinkSerializer.Meta):
        fields = [*DownloadLinkSerializer.Meta.fields, "url"]
        read_only_fields = fields


class DownloadLinkCreateSerializer(serializers.Serializer):
    expires_at = serializers.DateTimeField(required=False, help_text="Default: HUB_CONTENT_LINK_DAYS from now.")
    version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Null: always the latest."
    )
    password = StrictCharField(required=False, allow_blank=True, default="", max_length=128, write_only=True)
    max_downloads = serializers.IntegerField(required=False, allow_null=True, help_text="Null: no limit.")


class FolderShareSerializer(HubModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = FolderShare
        fields = ["id", "user", "email", "role", "created"]
        read_only_fields = fields


class FolderShareCreateSerializer(serializers.Serializer):
    user = serializers.IntegerField(help_text="A member's user id.")
    role = serializers.ChoiceField(choices=["viewer", "editor"])


class CommentSerializer(HubModelSerializer):
    author = serializers.EmailField(source="author.email", read_only=True, allow_null=True)
    thread = serializers.SerializerMethodField()
    mentions = serializers.SlugRelatedField(many=True, read_only=True, slug_field="email")
    resolved_by = serializers.EmailField(source="resolved_by.email", read_only=True, allow_null=True)

    class Meta:
        model = Comment
        fields = [
            "id", "thread", "document", "folder", "author", "body", "mentions", "created", "edited_at",
            "resolved_at", "resolved_by",
        ]  # fmt: skip
        read_only_fields = fields

    def get_thread(self, comment) -> int:
        return comment.parent_id or comment.pk


class CommentWriteSerializer(serializers.Serializer):
    body = StrictCharField(max_length=5000, help_text="Mention a member with @ and their e-mail address.")
    parent = serializers.IntegerField(required=False, allow_null=True, help_text="Reply in this comment's thread.")


class CommentRevisionSerializer(serializers.Serializer):
    body = serializers.CharField()
    edited_by = serializers.EmailField(source="edited_by.email", allow_null=True)
    created = serializers.DateTimeField()


class DiffSerializer(serializers.Serializer):
    old = serializers.IntegerField()
    new = serializers.IntegerField()
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    unified = serializers.CharField(help_text="The unified diff, as text.")


class SearchQuerySerializer(serializers.Serializer):
    q = StrictCharField(max_length=200, help_text="Words; each matches by its start (“inv” finds “invoice”).")
    type = serializers.ChoiceField(choices=list(search.TYPES), required=False)
    tag = StrictCharField(max_length=60, required=False)
    folder = serializers.IntegerField(required=False, min_value=1, help_text="A folder's id: it and the folders in it.")
    owner = serializers.IntegerField(required=False, min_value=1, help_text="The id of the member who uploaded it.")
    changed_from = serializers.DateField(required=False)
    changed_to = serializers.DateField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)

    def validate(self, data):
        if data.get("changed_from") and data.get("changed_to") and data["changed_from"] > data["changed_to"]:
            raise serializers.ValidationError({"changed_to": ["The end of the range comes before its start."]})
        return data


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="document_id")
    name = serializers.CharField()
    mime_type = serializers.CharField()
    rank = serializers.FloatField()
    snippet = serializers.CharField(help_text="HTML: the text escaped, the matched words in <mark>.")


class SearchResultsSerializer(serializers.Serializer):
    query = serializers.CharField()
    corrected = serializers.CharField(help_text="The words searched instead when none matched as typed (else empty).")
    results = SearchHitSerializer(many=True)
