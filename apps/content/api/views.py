"""/api/v1/content/: folders, documents, versions, downloads, check-out, trash, storage."""

import json

from django.core.exceptions import ValidationError
from django.db import connection
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api.exceptions import Conflict
from apps.core.api.parsers import JSONParser
from apps.core.api.serializers import valid
from apps.core.api.views import HubAPIView, HubGenericViewSet, mixins

from .. import metadata, processing, search, selectors, services, serving, storage
from ..lookups import need_edit
from ..models import Document, Folder
from .serializers import (
    DocumentCopySerializer,
    DocumentSerializer,
    DocumentUpdateSerializer,
    DocumentUploadSerializer,
    FolderSerializer,
    FolderWriteSerializer,
    SearchQuerySerializer,
    SearchResultsSerializer,
    StorageSerializer,
    VersionSerializer,
    VersionUploadSerializer,
)
from .views_sharing import DocumentSharingActions, FolderSharingActions

_BYTES = OpenApiResponse(OpenApiTypes.BINARY, description="The file's bytes (206 with a Range header).")
# Any type: application/octet-stream, or the file's own type when it is shown (?inline=1).
_DOWNLOAD = {
    (200, "*/*"): _BYTES,
    (206, "*/*"): _BYTES,
    302: OpenApiResponse(
        description="On an object store (HUB_CONTENT_SERVE redirect): Location is a presigned URL of the bytes, "
        "valid for a few minutes; the bucket serves them as an attachment, ranges included."
    ),
}


def folder_or_422(pk, field: str = "folder") -> Folder | None:
    if pk is None:
        return None
    try:
        return selectors.folder_get(pk=pk)
    except Folder.DoesNotExist:
        raise ValidationError({field: ["No such folder."]}) from None


def metadata_or_422(text: str) -> dict:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ValidationError({"metadata": ['Give a JSON object of fields and values, e.g. {"invoice": "2026-114"}.']})
    return value


class ContentAPI:
    api_scope = "content"
    read_permission = "content.view"
    write_permission = "content.edit"


class FolderScoped:
    """Writes need the folder's editors (the tenant role, or a share of the folder: see
    apps.content.sharing); so the role check lets every member through and get_object / create
    check the folder."""

    write_permission = "content.view"

    def folder_of(self, obj):
        raise NotImplementedError

    def get_object(self):
        obj = super().get_object()
        # Every member who sees a folder may comment there (apps.content.comments); a copy reads
        # its source and writes where it goes (checked there).
        if self.request.method not in ("GET", "HEAD", "OPTIONS") and self.action not in ("comments", "copy"):
            need_edit(self.request, self.folder_of(obj))
        return obj


@extend_schema_view(
    list=extend_schema(
        summary="List folders in a folder (the top when no parent is given)",
        parameters=[OpenApiParameter("parent", int, description="A folder's id")],
    ),
    retrieve=extend_schema(summary="One folder"),
    create=extend_schema(summary="Create a folder", request=FolderWriteSerializer),
    partial_update=extend_schema(summary="Rename or move a folder", request=FolderWriteSerializer),
    destroy=extend_schema(summary="Move a folder (and what it holds) to the trash"),
)
class FolderViewSet(
    FolderSharingActions, FolderScoped, ContentAPI, mixins.ListModelMixin, mixins.RetrieveModelMixin, HubGenericViewSet
):
    serializer_class = FolderSerializer
    problem_statuses = (422,)
    ordering_fields = ["name", "created", "id"]
    ordering = ("name", "id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def folder_of(self, folder):
        return folder

    def get_queryset(self):
        if self.action == "list":
            parent = self.request.query_params.get("parent")
            if parent is not None and not parent.isdigit():
                raise ValidationError({"parent": ["A folder's id is a number."]})
            return selectors.folder_list(parent=folder_or_422(int(parent), "parent") if parent else None)
        return selectors.folder_list(everywhere=True)

    def create(self, request, *args, **kwargs):
        data = valid(FolderWriteSerializer, request.data)
        if "name" not in data:
            raise ValidationError({"name": ["Give it a name."]})
        parent = folder_or_422(data.get("parent"), "parent")
        need_edit(request, parent)
        folder = services.folder_create(tenant=request.tenant, actor=request.user, name=data["name"], parent=parent)
        return Response(FolderSerializer(folder).data, status=201)

    def partial_update(self, request, *args, **kwargs):
        folder = self.get_object()
        data = valid(FolderWriteSerializer, request.data)
        parent = folder_or_422(data["parent"], "parent") if "parent" in data else ...
        if parent is not ...:
            need_edit(request, parent)
        services.folder_update(
            tenant=request.tenant, actor=request.user, folder=folder, name=data.get("name"), parent=parent
        )
        return Response(FolderSerializer(folder).data)

    def destroy(self, request, *args, **kwargs):
        services.folder_trash(tenant=request.tenant, actor=request.user, folder=self.get_object())
        return Response(status=204)


@extend_schema_view(
    list=extend_schema(
        summary="List documents in a folder (the top when none is given), or search all by name or tag",
        parameters=[
            OpenApiParameter("folder", int, description="A folder's id"),
            OpenApiParameter("q", str, description="Part of the name, anywhere"),
            OpenApiParameter("tag", str, description="Documents with this tag, anywhere"),
        ],
    ),
    retrieve=extend_schema(summary="One document"),
    create=extend_schema(
        summary="Upload a document (multipart)", request={"multipart/form-data": DocumentUploadSerializer}
    ),
    partial_update=extend_schema(
        summary="Rename, move, tag or change a document's metadata", request=DocumentUpdateSerializer
    ),
    destroy=extend_schema(summary="Move a document to the trash"),
)
class DocumentViewSet(
    DocumentSharingActions,
    FolderScoped,
    ContentAPI,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    HubGenericViewSet,
):
    serializer_class = DocumentSerializer
    ordering_fields = ["name", "updated", "created", "id"]
    ordering = ("name", "id")
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    problem_statuses = (409, 422)

    def get_parsers(self):
        if self.request is not None and self.request.method == "PATCH":
            return [JSONParser()]  # multipart is for files only
        return super().get_parsers()

    def folder_of(self, document):
        return document.folder

    def get_queryset(self):
        params = self.request.query_params
        if self.action == "list" and ("q" in params or "tag" in params):
            documents = selectors.document_list(everywhere=True)
            if params.get("q"):
                documents = documents.filter(name__icontains=params["q"])
            if params.get("tag"):
                documents = documents.filter(tags__name__iexact=params["tag"])
            return documents
        if self.action == "list":
            folder = params.get("folder")
            if folder is not None and not folder.isdigit():
                raise ValidationError({"folder": ["A folder's id is a number."]})
            return selectors.document_list(folder=folder_or_422(int(folder)) if folder else None)
        return selectors.document_list(everywhere=True)

    def create(self, request, *args, **kwargs):
        data = valid(DocumentUploadSerializer, request.data)
        upload = data["file"]
        folder = folder_or_422(data.get("folder"))
        need_edit(request, folder)
        document = services.document_upload(
            tenant=request.tenant, actor=request.user, fileobj=upload, name=data.get("name") or upload.name,
            folder=folder, note=data["note"], tags=data["tags"],
            metadata=metadata_or_422(data["metadata"]),
        )  # fmt: skip
        return Response(DocumentSerializer(selectors.document_get(pk=document.pk)).data, status=201)

    def partial_update(self, request, *args, **kwargs):
        document = self.get_object()
        data = valid(DocumentUpdateSerializer, request.data)
        values = types = None
        if "metadata_fields" in data:
            values, types = metadata.metadata_clean(data["metadata_fields"])
        elif "metadata" in data:
            values, types = metadata.metadata_from_values(data["metadata"])
        folder = folder_or_422(data["folder"]) if "folder" in data else ...
        if folder is not ...:
            need_edit(request, folder)
        services.document_update(
            tenant=request.tenant, actor=request.user, document=document, name=data.get("name"),
            folder=folder, tags=data.get("tags"), metadata=values, metadata_types=types,
        )  # fmt: skip
        return Response(DocumentSerializer(selectors.document_get(pk=document.pk)).data)

    def destroy(self, request, *args, **kwargs):
        services.document_trash(tenant=request.tenant, actor=request.user, document=self.get_object())
        return Response(status=204)

    @extend_schema(
        summary="Download the current version",
        parameters=[OpenApiParameter("inline", bool, description="Show pictures, PDFs and text in the browser")],
        responses=_DOWNLOAD,
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None, **kwargs):
        document = self.get_object()
        return serving.version_response(
            request._request, schema=connection.schema_name, version=document.current,
            inline=request.query_params.get("inline") in ("1", "true"),
        )  # fmt: skip

    @extend_schema(
        methods=["GET"], summary="The document's versions, newest first", responses=VersionSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"], summary="Upload a new version (multipart); 409 while someone else has it checked out",
        request={"multipart/form-data": VersionUploadSerializer},
        responses={201: VersionSerializer, 200: VersionSerializer},
    )  # fmt: skip
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def versions(self, request, pk=None, **kwargs):
        document = self.get_object()
        if request.method == "GET":
            return Response(VersionSerializer(selectors.version_list(document=document), many=True).data)
        data = valid(VersionUploadSerializer, request.data)
        try:
            version = services.document_version_add(
                tenant=request.tenant, actor=request.user, document=document, fileobj=data["file"], note=data["note"]
            )
        except services.DocumentLocked as exc:
            raise Conflict(str(exc)) from None
        created = version.number != document.current.number
        return Response(VersionSerializer(version).data, status=201 if created else 200)

    def _version(self, document: Document, number: str):
        version = selectors.version_list(document=document).filter(number=number).first()
        if version is None:
            raise Http404
        return version

    @extend_schema(summary="Download one version", responses=_DOWNLOAD)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]{1,9})/download")
    def version_download(self, request, pk=None, number=None, **kwargs):
        document = self.get_object()
        version = self._version(document, number)
        return serving.version_response(request._request, schema=connection.schema_name, version=version)

    @extend_schema(
        summary="Make an old version current again (as a new version)", request=None, responses={201: VersionSerializer}
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>[0-9]{1,9})/restore")
    def version_restore(self, request, pk=None, number=None, **kwargs):
        document = self.get_object()
        try:
            version = services.document_version_restore(
                tenant=request.tenant, actor=request.user, document=document, version=self._version(document, number)
            )
        except services.DocumentLocked as exc:
            raise Conflict(str(exc)) from None
        return Response(VersionSerializer(version).data, status=201)

    @extend_schema(summary="Check the document out: others cannot add versions until you check it in", request=None)
    @action(detail=True, methods=["post"])
    def lock(self, request, pk=None, **kwargs):
        return self._locking(services.document_lock, request)

    @extend_schema(summary="Check the document in (admins may end someone else's check-out)", request=None)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None, **kwargs):
        force = request.membership.allows("content.manage")
        return self._locking(lambda **kw: services.document_unlock(force=force, **kw), request)

    def _locking(self, service, request):
        try:
            document = service(tenant=request.tenant, actor=request.user, document=self.get_object())
        except services.DocumentLocked as exc:
            raise Conflict(str(exc)) from None
        return Response(DocumentSerializer(selectors.document_get(pk=document.pk)).data)

    @extend_schema(
        summary="Copy a document (its bytes are stored once)",
        request=DocumentCopySerializer,
        responses={201: DocumentSerializer},
    )
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None, **kwargs):
        document = self.get_object()
        data = valid(DocumentCopySerializer, request.data)
        folder = folder_or_422(data["folder"]) if "folder" in data else document.folder
        need_edit(request, folder)
        copy = services.document_copy(
            tenant=request.tenant, actor=request.user, document=document, folder=folder, name=data.get("name")
        )
        return Response(DocumentSerializer(selectors.document_get(pk=copy.pk)).data, status=201)

    @extend_schema(
        summary="Process the current version again (after processing failed)", request=None,
        responses={202: DocumentSerializer},
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def process(self, request, pk=None, **kwargs):
        document = self.get_object()
        services.document_process_again(tenant=request.tenant, actor=request.user, document=document)
        return Response(DocumentSerializer(selectors.document_get(pk=document.pk)).data, status=202)

    @extend_schema(
        summary="The current version's thumbnail (thumb) or web-size picture (web), as WebP",
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(processing.SIZES))],
        responses={(200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], url_path=r"pictures/(?P<kind>[^/.]+)")
    def picture(self, request, pk=None, kind=None, **kwargs):
        blob = self.get_object().current.blob
        if kind not in processing.SIZES or kind not in blob.renditions:
            raise Http404
        return _webp(processing.derived_name(connection.schema_name, blob.sha256, kind))

    @extend_schema(
        summary="A preview of one page of the current version (PDF), as WebP; drawn when first asked for",
        responses={(200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], url_path=r"pages/(?P<page>[0-9]{1,6})")
    def page(self, request, pk=None, page=None, **kwargs):
        blob = self.get_object().current.blob
        if not 1 <= int(page) <= processing.preview_pages(blob.pages):
            raise Http404
        try:
            name = processing.page_preview(connection.schema_name, blob.sha256, int(page))
        except processing.Unreadable:
            raise Http404 from None
        return _webp(name)


def _webp(name: str) -> FileResponse:
    """A picture we made, at a URL that follows the current version: an hour's cache."""
    response = FileResponse(storage.store().open(name, "rb"), content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class SearchView(ContentAPI, HubAPIView):
    problem_statuses = (422,)

    @extend_schema(
        summary="Full-text search: names, tags, metadata and the words inside documents (OCR included)",
        parameters=[SearchQuerySerializer],
        responses=SearchResultsSerializer,
    )
    def get(self, request, *args, **kwargs):
        # A plain dict: a QueryDict would let DRF read an empty "folder=" as no folder at all.
        data = valid(SearchQuerySerializer, request.query_params.dict())
        if "folder" in data:
            folder_or_422(data["folder"])
        filters = search.Filters(
            type=data.get("type", ""), tag=data.get("tag", ""), folder_id=data.get("folder"),
            owner_id=data.get("owner"), changed_from=data.get("changed_from"), changed_to=data.get("changed_to"),
        )  # fmt: skip
        hits, corrected = selectors.documents_find(query=data["q"], filters=filters, limit=data["limit"])
        return Response(SearchResultsSerializer({"query": data["q"], "corrected": corrected, "results": hits}).data)


@extend_schema_view(
    list=extend_schema(summary="Documents in the trash"),
)
class _TrashAPI(ContentAPI, mixins.ListModelMixin, HubGenericViewSet):
    """What the trash's two lists share: POST (restore, which checks the editors of where the item
    was) for members with content.view, DELETE (for good) for admins."""

    write_permission = "content.view"
    ordering_fields = ["trashed_at", "name", "id"]
    ordering = ("-trashed_at", "-id")
    http_method_names = ["get", "post", "delete", "head", "options"]

    def required_permission(self, request):
        return "content.manage" if request.method == "DELETE" else None


class TrashViewSet(_TrashAPI):
    """Restoring needs the document's folder's editors (role or share: restore checks it);
    deleting for good, admins."""

    serializer_class = DocumentSerializer

    def get_queryset(self):
        return selectors.trash_list()[1]

    def get_object(self):
        try:
            return selectors.trashed_document_get(pk=self.kwargs["pk"])
        except Document.DoesNotExist:
            raise Http404 from None

    @extend_schema(summary="Bring a document back from the trash", request=None, responses={200: DocumentSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None, **kwargs):
        document = self.get_object()
        need_edit(request, document.folder)
        services.document_restore(tenant=request.tenant, actor=request.user, document=document)
        return Response(DocumentSerializer(selectors.document_get(pk=document.pk)).data)

    @extend_schema(summary="Delete a trashed document for good (admins)", responses={204: None})
    def destroy(self, request, pk=None, **kwargs):
        services.document_purge(tenant=request.tenant, actor=request.user, document=self.get_object())
        return Response(status=204)


@extend_schema_view(
    list=extend_schema(summary="Folders in the trash (each with what it holds)"),
)
class FolderTrashViewSet(_TrashAPI):
    """A trashed folder comes back, or goes for good, with every folder and document in it.
    Restoring needs the editors of the folder it was in; deleting for good, admins."""

    serializer_class = FolderSerializer
    problem_statuses = (422,)

    def get_queryset(self):
        return selectors.trash_list()[0]

    def get_object(self):
        try:
            return selectors.trashed_folder_get(pk=self.kwargs["pk"])
        except Folder.DoesNotExist:
            raise Http404 from None

    @extend_schema(summary="Bring a folder back from the trash", request=None, responses={200: FolderSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None, **kwargs):
        folder = self.get_object()
        need_edit(request, folder.parent)
        services.folder_restore(tenant=request.tenant, actor=request.user, folder=folder)
        return Response(FolderSerializer(folder).data)

    @extend_schema(summary="Delete a trashed folder and all it holds for good (admins)", responses={204: None})
    def destroy(self, request, pk=None, **kwargs):
        services.folder_purge(tenant=request.tenant, actor=request.user, folder=self.get_object())
        return Response(status=204)


class StorageView(ContentAPI, HubAPIView):
    @extend_schema(summary="Storage used by the organisation, its quota and largest file", responses=StorageSerializer)
    def get(self, request, *args, **kwargs):
        return Response(selectors.storage_used(tenant=request.tenant))
