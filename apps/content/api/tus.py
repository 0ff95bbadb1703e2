"""/api/v1/content/uploads/: resumable uploads with the tus 1.0 protocol (apps.content.tus).

Extensions: creation, creation-with-upload, termination, expiration, checksum (sha256, sha1,
md5). Errors are application/problem+json with the reason in words, with tus's own statuses
(409 wrong offset, 412 wrong Tus-Resumable, 413 too large, 415 wrong Content-Type, 460 checksum
mismatch). When the last byte is in, the response carries `Hub-Document` (the document's id) and
`Hub-Document-Url` (its API address); so does HEAD on the finished upload until it expires.
"""

import uuid

from django.urls import reverse
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.api.exceptions import problem_response
from apps.core.api.schema import ProblemSerializer
from apps.core.api.views import HubAPIView

from .. import services, storage, tus
from ..models import Upload
from .views import ContentAPI

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_TYPE = "application/offset+octet-stream"
_PROBLEMS = {
    400: "Upload-Offset is missing, or Upload-Checksum names an algorithm this server does not know.",
    409: "Upload-Offset is not where the upload stands (or the document is checked out by someone else).",
    412: "Tus-Resumable is missing or names a version other than 1.0.0.",
    413: "The file is larger than the plan allows, or the storage left.",
    415: "The bytes are not sent as application/offset+octet-stream.",
    460: "Upload-Checksum does not match the chunk's bytes (they were not kept).",
}


def _responses(ok: dict, *codes: int) -> dict:
    """`ok` and the tus refusals `codes` (problem+json, the reason in words)."""
    return {
        **ok,
        **{(code, "application/problem+json"): OpenApiResponse(ProblemSerializer, _PROBLEMS[code]) for code in codes},
    }


_TUS = {204: OpenApiResponse(description="Done; the tus headers say where the upload stands.")}


def _problem(status: int, detail: str, code: str, **extra) -> Response:
    return problem_response(status, detail, code, **extra)


class TusMixin(ContentAPI):
    problem_statuses = (409, 412, 413, 415, 422)
    # Every member may try; the upload's folder (or document's) is checked at creation: its
    # editors only (the tenant role or a folder share, apps.content.sharing). Later requests are
    # the creator's own upload.
    write_permission = "content.view"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._tus_error = None
        if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != VERSION:
            self._tus_error = _problem(
                412, f"Send the header Tus-Resumable: {VERSION} (the tus protocol version this server speaks).",
                "tus_version",
            )  # fmt: skip

    def dispatch(self, request, *args, **kwargs):
        self.tus_extra = {}
        return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = VERSION
        if response.status_code == 412:
            response["Tus-Version"] = VERSION
        if response.status_code < 400:  # a refused request leaves no upload to point at
            for name, value in getattr(self, "tus_extra", {}).items():
                response[name] = value
        return response

    def _checked(self, handler):
        return self._tus_error or handler()

    def _length_or_problem(self, request):
        value = request.headers.get("Upload-Length", "")
        if not value.isdigit() or len(value) > 18:
            error = {"field": "Upload-Length", "message": "A whole number of bytes.", "code": "invalid"}
            detail = "Send Upload-Length: the file's size in bytes (deferred lengths are not supported)."
            return None, _problem(400, detail, "invalid", errors=[error])
        return int(value), None

    def _append(self, request, upload: Upload, *, creating: bool = False):
        """The request's body appended to `upload` (PATCH, or POST with creation-with-upload)."""
        if request.content_type.split(";")[0].strip() != OFFSET_TYPE:
            return _problem(415, f"Send the bytes as Content-Type: {OFFSET_TYPE}.", "unsupported_media_type")
        offset = request.headers.get("Upload-Offset", "0" if creating else "")
        if not offset.isdigit():
            return _problem(400, "Send Upload-Offset: where these bytes start.", "invalid")
        try:
            checksum = tus.checksum_parse(request.headers.get("Upload-Checksum"))
        except ValueError as exc:
            return _problem(400, str(exc), "checksum_algorithm")
        try:
            upload = tus.upload_append(
                tenant=request.tenant, actor=request.user, upload=upload, offset=int(offset),
                stream=request._request, checksum=checksum,
            )  # fmt: skip
        except tus.OffsetMismatch as exc:
            return _problem(409, str(exc), "offset_mismatch")
        except tus.ChecksumMismatch as exc:
            return _problem(460, str(exc), "checksum_mismatch")
        except services.DocumentLocked as exc:
            return _problem(409, str(exc), "locked")
        self.tus_extra.update(_state_headers(request, upload))
        return None

    def _upload_or_404(self, request, upload_id: str):
        try:
            upload_id = uuid.UUID(upload_id)
            return tus.upload_get(tenant=request.tenant, actor=request.user, upload_id=upload_id), None
        except (Upload.DoesNotExist, ValueError):
            return None, _problem(
                404, "No such upload: it finished long ago, expired, or is someone else's.", "not_found"
            )


def _state_headers(request, upload: Upload) -> dict:
    headers = {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Upload-Expires": http_date(upload.expires_at.timestamp()),
        "Cache-Control": "no-store",
    }
    if upload.metadata:
        headers["Upload-Metadata"] = upload.metadata
    if upload.result_id is not None:
        headers["Hub-Document"] = str(upload.result_id)
        headers["Hub-Document-Url"] = request.build_absolute_uri(
            reverse("api:content-document-detail", kwargs={"version": "v1", "pk": upload.result_id})
        )
    return headers


def _options_headers(request) -> dict:
    return {
        "Tus-Version": VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(storage.limits(request.tenant)["max_file_bytes"]),
        "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUMS),
    }


class UploadCreateView(TusMixin, HubAPIView):
    @extend_schema(
        summary="Start a resumable upload (tus creation; a body with it is its first bytes)",
        request=None,  # raw bytes (application/offset+octet-stream): no OpenAPI tool makes or reads them
        responses=_responses(
            {201: OpenApiResponse(description="Created: Location names the upload.")}, 409, 412, 413, 415, 460
        ),
    )
    def post(self, request, *args, **kwargs):
        return self._checked(lambda: self._create(request))

    def _create(self, request):
        length, problem = self._length_or_problem(request)
        if problem:
            return problem
        try:
            upload = tus.upload_create(
                tenant=request.tenant, actor=request.user, length=length,
                metadata_header=request.headers.get("Upload-Metadata", ""),
            )  # fmt: skip
        except tus.TooLarge as exc:
            return _problem(413, str(exc), "too_large")
        if not self._may_edit(request, upload):
            tus.upload_delete(tenant=request.tenant, upload=upload)
            return _problem(403, "You may look at this folder's files but not change them.", "permission_denied")
        self.tus_extra["Location"] = request.build_absolute_uri(f"{request.path.rstrip('/')}/{upload.pk}")
        self.tus_extra.update(_state_headers(request, upload))
        if request.content_type.split(";")[0].strip() == OFFSET_TYPE:
            problem = self._append(request, upload, creating=True)
            if problem is not None:
                return problem
        return Response(status=201)

    @staticmethod
    def _may_edit(request, upload) -> bool:
        from .. import selectors
        from ..lookups import may_edit
        from ..models import Document, Folder

        try:
            if upload.document_id is not None:
                folder = selectors.document_get(pk=upload.document_id).folder
            else:
                folder = selectors.folder_get(pk=upload.folder_id) if upload.folder_id else None
        except (Document.DoesNotExist, Folder.DoesNotExist):
            folder = None  # unknown ones are refused later in the words of the upload's checks
        return may_edit(request, folder)

    @extend_schema(summary="What this tus server supports (versions, extensions, largest file)", responses=_TUS)
    def options(self, request, *args, **kwargs):
        self.tus_extra.update(_options_headers(request))
        return Response(status=204)


class UploadView(TusMixin, HubAPIView):
    options = UploadCreateView.options
    queryset = Upload.objects.none()  # for the OpenAPI document: `id` is the upload's UUID

    def _on_upload(self, request, upload_id: str, handler):
        """`handler(upload)` on the caller's own upload: a 404 first for anyone else's (before
        the protocol version is looked at, so nothing is told about another's address)."""
        upload, problem = self._upload_or_404(request, upload_id)
        return problem or self._tus_error or handler(upload)

    @extend_schema(summary="Where an upload stands (Upload-Offset; Hub-Document once finished)", responses=_TUS)
    def head(self, request, id=None, **kwargs):
        def state(upload):
            self.tus_extra.update(_state_headers(request, upload))
            return Response(status=200)

        return self._on_upload(request, id, state)

    @extend_schema(
        summary="Send the next bytes of an upload at Upload-Offset", request=None,
        responses=_responses(_TUS, 400, 409, 412, 415, 460),
    )  # fmt: skip
    def patch(self, request, id=None, **kwargs):
        return self._on_upload(request, id, lambda upload: self._append(request, upload) or Response(status=204))

    @extend_schema(
        summary="Abandon an upload and delete its bytes so far (tus termination)", responses=_responses(_TUS, 412)
    )
    def delete(self, request, id=None, **kwargs):
        def terminate(upload):
            tus.upload_delete(tenant=request.tenant, upload=upload)
            return Response(status=204)

        return self._on_upload(request, id, terminate)
