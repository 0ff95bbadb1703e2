"""/api/v1/content/: download links, folder shares, comments and diffs (mixed into the folder and
document viewsets), and comments by id. Writes in a folder need its editors (the tenant role or a
share: apps.content.sharing.folder_access)."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.parsers import JSONParser
from apps.core.api.serializers import valid
from apps.core.api.views import HubGenericViewSet, mixins
from apps.identity.models import User

from .. import comments, diffs, selectors, sharing
from ..lookups import need_edit
from ..models import Comment, FolderShare, ShareLink
from .serializers import (
    CommentRevisionSerializer,
    CommentSerializer,
    CommentWriteSerializer,
    DiffSerializer,
    DownloadLinkCreatedSerializer,
    DownloadLinkCreateSerializer,
    DownloadLinkSerializer,
    FolderShareCreateSerializer,
    FolderShareSerializer,
)


def _comments_answer(request, *, document=None, folder=None):
    if request.method == "GET":
        threads = comments.thread_list(document=document, folder=folder)
        flat = [c for t in threads for c in [t, *t.thread_replies]]
        return Response(CommentSerializer(flat, many=True).data)
    data = valid(CommentWriteSerializer, request.data)
    parent = None
    if data.get("parent"):
        try:
            parent = comments.comment_get(pk=data["parent"], document=document, folder=folder)
        except Comment.DoesNotExist:
            raise ValidationError({"parent": ["No such comment here."]}) from None
    comment = comments.comment_add(
        tenant=request.tenant, actor=request.user, body=data["body"], document=document, folder=folder, parent=parent
    )
    return Response(CommentSerializer(comment).data, status=201)


_COMMENTS_GET = extend_schema(
    methods=["GET"], summary="Comments, thread by thread (oldest first)", responses=CommentSerializer(many=True)
)
_COMMENTS_POST = extend_schema(
    methods=["POST"], summary="Comment (or reply in a thread); @mentions notify members",
    request=CommentWriteSerializer, responses={201: CommentSerializer},
)  # fmt: skip


class DocumentSharingActions:
    """Links, comments and diffs of a document."""

    @extend_schema(
        methods=["GET"], summary="The document's download links", responses=DownloadLinkSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"], summary="Make a download link (its address is in this answer only)",
        request=DownloadLinkCreateSerializer, responses={201: DownloadLinkCreatedSerializer},
    )  # fmt: skip
    @action(
        detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[], parser_classes=[JSONParser]
    )
    def links(self, request, pk=None, **kwargs):
        document = self.get_object()
        if request.method == "GET":
            return Response(DownloadLinkSerializer(sharing.share_link_list(document=document), many=True).data)
        need_edit(request, document.folder)
        data = valid(DownloadLinkCreateSerializer, request.data)
        version = None
        if data.get("version"):
            version = selectors.version_list(document=document).filter(number=data["version"]).first()
            if version is None:
                raise ValidationError({"version": ["This document has no such version."]})
        link, address = sharing.share_link_create(
            tenant=request.tenant, actor=request.user, document=document, version=version,
            expires_at=data.get("expires_at") or timezone.now() + timedelta(days=7),
            password=data["password"], max_downloads=data.get("max_downloads"),
        )  # fmt: skip
        link.url = request.build_absolute_uri(address)
        return Response(DownloadLinkCreatedSerializer(link).data, status=201)

    @extend_schema(summary="Turn a download link off at once", request=None, responses=DownloadLinkSerializer)
    @action(detail=True, methods=["post"], url_path=r"links/(?P<link_id>[0-9]{1,12})/revoke")
    def link_revoke(self, request, pk=None, link_id=None, **kwargs):
        document = self.get_object()
        need_edit(request, document.folder)
        try:
            link = sharing.share_link_get(document=document, pk=link_id)
        except ShareLink.DoesNotExist:
            raise Http404 from None
        return Response(
            DownloadLinkSerializer(sharing.share_link_revoke(tenant=request.tenant, actor=request.user, link=link)).data
        )

    @_COMMENTS_GET
    @_COMMENTS_POST
    @action(
        detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[], parser_classes=[JSONParser]
    )
    def comments(self, request, pk=None, **kwargs):
        return _comments_answer(request, document=self.get_object())

    @extend_schema(
        summary="The text diff between two versions (422 for files that are not text)",
        parameters=[OpenApiParameter("old", int, required=True), OpenApiParameter("new", int, required=True)],
        responses=DiffSerializer,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None, **kwargs):
        document = self.get_object()
        numbers = {}
        for field in ("old", "new"):
            value = request.query_params.get(field, "")
            if not value.isdigit():
                raise ValidationError({field: ["A version's number."]})
            version = selectors.version_list(document=document).filter(number=int(value)).first()
            if version is None:
                raise ValidationError({field: ["This document has no such version."]})
            numbers[field] = version
        try:
            diff = diffs.version_diff(schema=connection.schema_name, old=numbers["old"], new=numbers["new"])
        except diffs.NotText as exc:
            raise ValidationError({"old": [str(exc)]}) from None
        text = "\n".join(line if kind == "@" else kind + line for kind, line in diff.unified)
        return Response({"old": diff.old.number, "new": diff.new.number, "added": diff.added,
                         "removed": diff.removed, "unified": text})  # fmt: skip


class FolderSharingActions:
    """Shares and comments of a folder."""

    @extend_schema(
        methods=["GET"], summary="Members the folder is shared with", responses=FolderShareSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"], summary="Share the folder with a member (admins)", request=FolderShareCreateSerializer,
        responses={201: FolderShareSerializer},
    )  # fmt: skip
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def shares(self, request, pk=None, **kwargs):
        folder = self.get_object()
        if request.method == "GET":
            return Response(FolderShareSerializer(sharing.folder_share_list(folder=folder), many=True).data)
        if not request.membership.allows("content.manage"):
            raise exceptions.PermissionDenied("Only admins share folders.")
        data = valid(FolderShareCreateSerializer, request.data)
        user = User.objects.filter(pk=data["user"]).first()
        share = sharing.folder_share(
            tenant=request.tenant, actor=request.user, folder=folder, user=user, role=data["role"]
        )
        return Response(FolderShareSerializer(share).data, status=201)

    @extend_schema(summary="Stop sharing the folder with a member (admins)", responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"shares/(?P<share_id>[0-9]{1,12})")
    def share_delete(self, request, pk=None, share_id=None, **kwargs):
        folder = self.get_object()
        if not request.membership.allows("content.manage"):
            raise exceptions.PermissionDenied("Only admins share folders.")
        share = FolderShare.objects.select_related("user", "folder").filter(folder=folder, pk=share_id).first()
        if share is None:
            raise Http404
        sharing.folder_unshare(tenant=request.tenant, actor=request.user, share=share)
        return Response(status=204)

    @_COMMENTS_GET
    @_COMMENTS_POST
    @action(
        detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[], parser_classes=[JSONParser]
    )
    def comments(self, request, pk=None, **kwargs):
        return _comments_answer(request, folder=self.get_object())


@extend_schema_view(
    retrieve=extend_schema(summary="One comment"),
    partial_update=extend_schema(
        summary="Edit your comment (its earlier text is kept)", request=CommentWriteSerializer
    ),
)
class CommentViewSet(mixins.RetrieveModelMixin, HubGenericViewSet):
    api_scope = "content"
    read_permission = "content.view"
    write_permission = "content.view"  # commenting is for every member; editing is the author's
    serializer_class = CommentSerializer
    problem_statuses = (422,)
    ordering_fields = ["created", "id"]
    ordering = ("created", "id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        live_documents = selectors.document_list(everywhere=True).values("pk")
        live_folders = selectors.folder_list(everywhere=True).values("pk")
        return (
            Comment.objects.filter(document__in=live_documents) | Comment.objects.filter(folder__in=live_folders)
        ).select_related("author", "resolved_by", "document__folder", "folder", "parent")

    def partial_update(self, request, *args, **kwargs):
        comment = self.get_object()
        if comment.author_id != request.user.pk:
            raise exceptions.PermissionDenied("Only its author can edit a comment.")
        data = valid(CommentWriteSerializer, request.data, partial=True)
        if "body" in data:  # a PATCH without it changes nothing
            comments.comment_edit(tenant=request.tenant, actor=request.user, comment=comment, body=data["body"])
        return Response(CommentSerializer(comment).data)

    def _resolve(self, request, resolved: bool):
        comment = self.get_object()
        root = comment.parent or comment
        folder = comment.document.folder if comment.document_id else comment.folder
        if root.author_id != request.user.pk:
            need_edit(request, folder)
        root = comments.thread_resolve(tenant=request.tenant, actor=request.user, comment=comment, resolved=resolved)
        return Response(CommentSerializer(root).data)

    @extend_schema(summary="Resolve the comment's thread", request=None, responses=CommentSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None, **kwargs):
        return self._resolve(request, True)

    @extend_schema(summary="Reopen the comment's thread", request=None, responses=CommentSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None, **kwargs):
        return self._resolve(request, False)

    @extend_schema(summary="The comment's earlier texts, newest first", responses=CommentRevisionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def revisions(self, request, pk=None, **kwargs):
        comment = self.get_object()
        return Response(CommentRevisionSerializer(comment.revisions.select_related("edited_by"), many=True).data)
