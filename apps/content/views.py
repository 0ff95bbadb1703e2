"""Content's pages. Thin: validate, call a service, render."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required

from . import diffs, metadata, processing, search, selectors, services, serving, sharing, storage
from .forms import (
    ContentSettingsForm,
    DetailsForm,
    FolderForm,
    RenameForm,
    SearchForm,
    ShareLinkForm,
    UploadForm,
    VersionForm,
)  # fmt: skip
from .kinds import kind_label
from .lookups import document_or_404, folder_or_404, may_edit, need_edit
from .models import Blob, Document, Folder, ShareLink
from .tables import (
    DocumentsTable,
    FoldersTable,
    SearchTable,
    ShareLinksTable,
    TrashFoldersTable,
    TrashTable,
    VersionsTable,
)
from .views_conversation import comments_context


def _here(folder: Folder | None) -> str:
    return reverse("content:folder", args=[folder.pk]) if folder else reverse("content:index")


def _browse(request, folder, *, folder_form=None, upload_form=None, status=200):
    folders = data_table(request, FoldersTable, selectors.folder_list(parent=folder), prefix="f-")
    tag = request.GET.get("tag", "").strip()
    listed = selectors.document_list(folder=folder)
    if tag:
        listed = listed.filter(tags__name__iexact=tag)
    documents = data_table(
        request, DocumentsTable, listed, prefix="d-",
        empty_action=("Upload a file", "#upload"),
    )  # fmt: skip
    for table in (folders, documents):
        if table.response:
            return table.response
    usage = selectors.storage_used(tenant=request.tenant)
    usage["percent"] = min(100, round(100 * usage["used_bytes"] / usage["quota_bytes"])) if usage["quota_bytes"] else 0
    context = {
        "folder": folder,
        "path": selectors.folder_path(folder),
        "tag": tag,
        "tags": selectors.tag_list(folder=folder),
        "folders": folders,
        "documents": documents,
        "folder_form": folder_form or FolderForm(),
        "upload_form": upload_form or UploadForm(),
        "can_edit": may_edit(request, folder),
        "can_manage": request.membership.allows("content.manage"),
        "usage": usage,
    }
    return render(request, "content/browse.html", context, status=status)


@tenant_member_required("content.view")
def index(request, folder_id=None):
    return _browse(request, folder_or_404(folder_id))


@require_POST
@tenant_member_required("content.view")
def folder_create(request, folder_id=None):
    parent = folder_or_404(folder_id)
    need_edit(request, parent)
    form = FolderForm(request.POST)
    if form.is_valid():
        try:
            folder = services.folder_create(
                tenant=request.tenant, actor=request.user, name=form.cleaned_data["name"], parent=parent
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Folder “{folder.name}” created.")
            return redirect(_here(parent))
    return _browse(request, parent, folder_form=form, status=400)


@require_POST
@tenant_member_required("content.view")
def upload(request, folder_id=None):
    folder = folder_or_404(folder_id)
    need_edit(request, folder)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            document = services.document_upload(
                tenant=request.tenant, actor=request.user, fileobj=upload, name=upload.name, folder=folder,
                note=form.cleaned_data["note"],
            )  # fmt: skip
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"“{document.name}” uploaded.")
            return redirect(_here(folder))
    return _browse(request, folder, upload_form=form, status=400)


@require_POST
@tenant_member_required("content.view")
def folder_trash(request, folder_id):
    folder = folder_or_404(folder_id)
    need_edit(request, folder)
    services.folder_trash(tenant=request.tenant, actor=request.user, folder=folder)
    messages.success(request, f"“{folder.name}” moved to the trash.")
    return redirect(_here(folder.parent))


def _document_page(
    request, document, *, version_form=None, rename_form=None, link_form=None, details_form=None, status=200
):
    versions = data_table(request, VersionsTable, selectors.version_list(document=document))
    links = data_table(request, ShareLinksTable, sharing.share_link_list(document=document), prefix="l-")
    for table in (versions, links):
        if table.response:
            return table.response
    fields = metadata.metadata_fields(document)
    if details_form is not None:
        fields = details_form.metadata_rows
    context = {
        "document": document,
        "path": selectors.folder_path(document.folder),
        "kind": kind_label(document.current.blob.mime_type),
        "versions": versions,
        "links": links,
        "new_link": request.session.pop("content_new_link", ""),
        "version_form": version_form or VersionForm(),
        "rename_form": rename_form or RenameForm(initial={"name": document.name}),
        "link_form": link_form or link_form_for(document),
        "details_form": details_form or DetailsForm(initial={"tags": ", ".join(t.name for t in document.tags.all())}),
        "metadata_rows": [*fields, {"key": "", "type": "text", "value": ""}],
        "metadata_types": metadata.TYPES,
        "can_edit": may_edit(request, document.folder),
        "can_manage": request.membership.allows("content.manage"),
        "locked_by_me": document.locked_by_id == request.user.pk,
        "previewable": document.current.blob.mime_type in serving.INLINE_TYPES,
        "comparable": document.versions.count() > 1,
        **comments_context(request, document=document),
        "blob": document.current.blob,
        "pages": range(1, processing.preview_pages(document.current.blob.pages) + 1),
        "failed": document.current.blob.status == Blob.Status.FAILED,
        "under_way": document.current.blob.status in (Blob.Status.PENDING, Blob.Status.RUNNING),
    }
    return render(request, "content/document.html", context, status=status)


@tenant_member_required("content.view")
def picture(request, pk, number, kind):
    """A version's thumbnail or web-size picture (made by processing: always a WebP we encoded, never
    the uploaded bytes), behind the same permission as the document. The URL names the version, whose
    bytes never change: cached for a year."""
    version = _version_or_404(pk, number)
    if kind not in version.blob.renditions:
        raise Http404
    blob = version.blob
    return _webp(
        request, f"{blob.sha256}-{kind}", lambda: processing.derived_name(connection.schema_name, blob.sha256, kind)
    )


@tenant_member_required("content.view")
def page(request, pk, number, page):
    """A preview of one page of a PDF version (web size, WebP), drawn when first asked for and
    kept; pages past HUB_CONTENT_PREVIEW_PAGES have none. Cached as the version's pictures are."""
    version = _version_or_404(pk, number)
    if not 1 <= page <= processing.preview_pages(version.blob.pages):
        raise Http404
    blob = version.blob
    return _webp(
        request,
        f"{blob.sha256}-page-{page}",
        lambda: processing.page_preview(connection.schema_name, blob.sha256, page),
    )


def _version_or_404(pk, number):
    version = selectors.version_list(document=document_or_404(pk)).filter(number=number).first()
    if version is None:
        raise Http404
    return version


def _webp(request, tag: str, name):
    """A picture we encoded (never the uploaded bytes) under the storage name `name()`; its URL
    names a version, whose bytes never change: cached for a year, with an ETag."""
    etag = f'"{tag}"'
    headers = {
        "Cache-Control": "private, max-age=31536000, immutable",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return HttpResponse(status=304, headers=headers)
    try:
        handle = storage.store().open(name(), "rb")
    except (FileNotFoundError, processing.Unreadable):
        raise Http404 from None
    return FileResponse(handle, content_type="image/webp", headers=headers)


@require_POST
@tenant_member_required("content.view")
def process_again(request, pk):
    document = document_or_404(pk)
    need_edit(request, document.folder)
    try:
        services.document_process_again(tenant=request.tenant, actor=request.user, document=document)
        messages.success(request, f"“{document.name}” will be processed again in a moment.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("content:document", pk=document.pk)


@tenant_member_required("content.view")
def search_page(request):
    """Full-text search: the words, filters as a GET form, the results as a data table with snippets."""
    choices = selectors.search_choices()
    form = SearchForm(request.GET or None, **choices)
    hits, corrected = [], ""
    if form.is_bound and form.is_valid() and form.cleaned_data["q"]:
        data = form.cleaned_data
        filters = search.Filters(
            type=data["type"], tag=data["tag"], folder_id=data["folder"], owner_id=data["owner"],
            changed_from=data["changed_from"], changed_to=data["changed_to"],
        )  # fmt: skip
        hits, corrected = selectors.documents_find(query=data["q"], filters=filters, limit=100)
    table = data_table(request, SearchTable, [vars(hit) for hit in hits], prefix="r-")
    if table.response:
        return table.response
    context = {"form": form, "table": table, "corrected": corrected, "asked": bool(request.GET.get("q"))}
    return render(request, "content/search.html", context, status=400 if form.errors else 200)


@tenant_member_required("content.view")
def document(request, pk):
    return _document_page(request, document_or_404(pk))


@tenant_member_required("content.view")
def download(request, pk, number=None):
    document = document_or_404(pk)
    version = document.current
    if number is not None:
        version = selectors.version_list(document=document).filter(number=number).first()
        if version is None:
            raise Http404
    inline = request.GET.get("inline") == "1"
    return serving.version_response(request, schema=connection.schema_name, version=version, inline=inline)


@require_POST
@tenant_member_required("content.view")
def version_upload(request, pk):
    document = document_or_404(pk)
    need_edit(request, document.folder)
    form = VersionForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            version = services.document_version_add(
                tenant=request.tenant, actor=request.user, document=document, fileobj=form.cleaned_data["file"],
                note=form.cleaned_data["note"],
            )  # fmt: skip
        except services.DocumentLocked as exc:
            form.add_error("file", str(exc))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if version.number == document.current.number:
                messages.info(request, "That file is the same as the current version: nothing changed.")
            else:
                messages.success(request, f"Version {version.number} saved.")
            return redirect("content:document", pk=document.pk)
    return _document_page(request, document, version_form=form, status=400)


@require_POST
@tenant_member_required("content.view")
def rename(request, pk):
    document = document_or_404(pk)
    need_edit(request, document.folder)
    form = RenameForm(request.POST)
    if form.is_valid():
        try:
            services.document_update(
                tenant=request.tenant, actor=request.user, document=document, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Renamed.")
            return redirect("content:document", pk=document.pk)
    return _document_page(request, document_or_404(pk), rename_form=form, status=400)


@require_POST
@tenant_member_required("content.view")
def version_restore(request, pk, number):
    document = document_or_404(pk)
    need_edit(request, document.folder)
    old = selectors.version_list(document=document).filter(number=number).first()
    if old is None:
        raise Http404
    if old.blob_id == document.current.blob_id:
        messages.info(request, f"Version {old.number} has the same bytes as the current version: nothing to restore.")
        return redirect("content:document", pk=document.pk)
    try:
        version = services.document_version_restore(
            tenant=request.tenant, actor=request.user, document=document, version=old
        )
    except services.DocumentLocked as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Version {old.number} is current again (as version {version.number}).")
    return redirect("content:document", pk=document.pk)


@require_POST
@tenant_member_required("content.view")
def lock(request, pk):
    document = document_or_404(pk)
    need_edit(request, document.folder)
    try:
        if request.POST.get("action") == "unlock":
            force = request.membership.allows("content.manage")
            services.document_unlock(tenant=request.tenant, actor=request.user, document=document, force=force)
            messages.success(request, "Checked in: everyone can save new versions again.")
        else:
            services.document_lock(tenant=request.tenant, actor=request.user, document=document)
            messages.success(request, "Checked out to you: others cannot save versions until you check it in.")
    except services.DocumentLocked as exc:
        messages.error(request, str(exc))
    return redirect("content:document", pk=document.pk)


@require_POST
@tenant_member_required("content.view")
def document_trash(request, pk):
    document = document_or_404(pk)
    need_edit(request, document.folder)
    services.document_trash(tenant=request.tenant, actor=request.user, document=document)
    messages.success(request, f"“{document.name}” moved to the trash.")
    return redirect(_here(document.folder))


@tenant_member_required("content.view")
def trash(request):
    folders, documents = selectors.trash_list()
    tables = {
        "folders": data_table(request, TrashFoldersTable, folders.order_by("-trashed_at"), prefix="f-"),
        "table": data_table(request, TrashTable, documents.order_by("-trashed_at")),
    }
    for table in tables.values():
        if table.response:
            return table.response
    return render(request, "content/trash.html", {**tables, "trash_days": settings.HUB_CONTENT_TRASH_DAYS})


def _trashed_folder_or_404(pk) -> Folder:
    try:
        return selectors.trashed_folder_get(pk=pk)
    except Folder.DoesNotExist:
        raise Http404 from None


@require_POST
@tenant_member_required("content.view")
def trash_folder_restore(request, pk):
    folder = _trashed_folder_or_404(pk)
    need_edit(request, folder.parent)
    try:
        services.folder_restore(tenant=request.tenant, actor=request.user, folder=folder)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{folder.name}” is back, with what it holds.")
    return redirect("content:trash")


@require_POST
@tenant_member_required("content.manage")
def trash_folder_purge(request, pk):
    folder = _trashed_folder_or_404(pk)
    services.folder_purge(tenant=request.tenant, actor=request.user, folder=folder)
    messages.success(request, f"“{folder.name}” and what it held deleted for good.")
    return redirect("content:trash")


@require_POST
@tenant_member_required("content.view")
def trash_restore(request, pk):
    try:
        document = selectors.trashed_document_get(pk=pk)
    except Document.DoesNotExist:
        raise Http404 from None
    need_edit(request, document.folder)
    try:
        services.document_restore(tenant=request.tenant, actor=request.user, document=document)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{document.name}” is back.")
    return redirect("content:trash")


@require_POST
@tenant_member_required("content.manage")
def trash_purge(request, pk):
    try:
        document = selectors.trashed_document_get(pk=pk)
    except Document.DoesNotExist:
        raise Http404 from None
    services.document_purge(tenant=request.tenant, actor=request.user, document=document)
    messages.success(request, f"“{document.name}” deleted for good.")
    return redirect("content:trash")


@tenant_member_required("content.manage")
def content_settings(request):
    """Files settings (admins): whether uploaded pictures keep their location."""
    current = selectors.content_settings_get(tenant=request.tenant)
    initial = {"keep_image_location": current.keep_image_location, "ocr_languages": current.ocr_languages.split("+")}
    form = ContentSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.content_settings_update(
            tenant=request.tenant, actor=request.user, keep_image_location=form.cleaned_data["keep_image_location"],
            ocr_languages=form.cleaned_data["ocr_languages"],
        )  # fmt: skip
        messages.success(request, "Files settings saved.")
        return redirect("content:settings")
    return render(request, "content/settings.html", {"form": form})


@tenant_member_required("content.view")
def diff(request, pk):
    """Two versions side by side (or unified): ?old=<n>&new=<n>&view=split|unified."""
    document = document_or_404(pk)
    numbers = list(selectors.version_list(document=document).values_list("number", flat=True))
    try:
        new = int(request.GET.get("new") or numbers[0])
        old = int(request.GET.get("old") or (numbers[1] if len(numbers) > 1 else numbers[0]))
    except ValueError:
        raise Http404 from None
    versions = {v.number: v for v in selectors.version_list(document=document).filter(number__in=[old, new])}
    if old not in versions or new not in versions:
        raise Http404
    view = "unified" if request.GET.get("view") == "unified" else "split"
    context = {
        "document": document, "path": selectors.folder_path(document.folder), "numbers": numbers,
        "old": old, "new": new, "view": view, "diff": None, "problem": "",
    }  # fmt: skip
    try:
        context["diff"] = diffs.version_diff(schema=connection.schema_name, old=versions[old], new=versions[new])
    except diffs.NotText as exc:
        context["problem"] = str(exc)
    return render(request, "content/diff.html", context)


@require_POST
@tenant_member_required("content.view")
def details(request, pk):
    """Tags and custom metadata fields (rows key_N / type_N / value_N)."""
    document = document_or_404(pk)
    need_edit(request, document.folder)
    form = DetailsForm(request.POST)
    rows = []
    for index in range(metadata.MAX_FIELDS + 1):
        if f"key_{index}" not in request.POST:
            break
        rows.append({k: request.POST.get(f"{k}_{index}", "") for k in ("key", "type", "value")})
    form.metadata_rows = [r for r in rows if r["key"] or r["value"]]
    if form.is_valid():
        tags = [t for t in form.cleaned_data["tags"].split(",") if t.strip()]
        try:
            values, types = metadata.metadata_clean(rows)
            services.document_update(
                tenant=request.tenant, actor=request.user, document=document, tags=tags, metadata=values,
                metadata_types=types,
            )  # fmt: skip
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Details saved.")
            return redirect("content:document", pk=document.pk)
    return _document_page(request, document_or_404(pk), details_form=form, status=400)


# --- download links -----------------------------------------------------------------------------


def link_form_for(document, data=None) -> ShareLinkForm:
    numbers = selectors.version_list(document=document).values_list("number", flat=True)
    initial = {"expires_at": timezone.localtime(sharing.link_lifetime_default()).strftime("%Y-%m-%dT%H:%M")}
    return ShareLinkForm(data, numbers=numbers, initial=initial)


@require_POST
@tenant_member_required("content.view")
def link_create(request, pk):
    document = document_or_404(pk)
    need_edit(request, document.folder)
    form = link_form_for(document, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        version = None
        if data["version"]:
            version = selectors.version_list(document=document).filter(number=data["version"]).first()
        try:
            _, address = sharing.share_link_create(
                tenant=request.tenant, actor=request.user, document=document, expires_at=data["expires_at"],
                version=version, password=data["password"], max_downloads=data["max_downloads"],
            )  # fmt: skip
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            request.session["content_new_link"] = request.build_absolute_uri(address)
            messages.success(request, "Link made: copy it now, it is shown only once.")
            return redirect("content:document", pk=document.pk)
    return _document_page(request, document, link_form=form, status=400)


@require_POST
@tenant_member_required("content.view")
def link_revoke(request, pk, link_id):
    document = document_or_404(pk)
    need_edit(request, document.folder)
    try:
        link = sharing.share_link_get(document=document, pk=link_id)
    except ShareLink.DoesNotExist:
        raise Http404 from None
    sharing.share_link_revoke(tenant=request.tenant, actor=request.user, link=link)
    messages.success(request, "The link is turned off: it no longer works.")
    return redirect("content:document", pk=document.pk)
