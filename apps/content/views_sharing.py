"""Sharing pages: a document's download links, the public page a link opens (no log-in), and a
folder's members."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity import lockout
from apps.identity.audit import client_ip
from apps.identity.decorators import tenant_member_required
from apps.identity.selectors import member_list

from . import selectors, serving, sharing
from .forms import FolderShareForm, LinkPasswordForm
from .lookups import folder_or_404
from .models import FolderShare
from .tables import FolderSharesTable

# --- the public page ----------------------------------------------------------------------------


def _public_link(request, signed):
    if request.tenant is None or request.tenant.is_public:
        raise Http404
    link = sharing.share_link_from_address(schema=connection.schema_name, signed=signed)
    if link is None:
        raise Http404
    return link


def _unlocked(request, link) -> bool:
    return not link.password or request.session.get(f"content_link_{link.pk}") == link.password[-16:]


def _shared_page(request, link, *, form=None, problem="", status=200):
    version = link.version or link.document.current
    context = {
        "link": link,
        "version": version,
        "problem": problem or sharing.share_link_problem(link),
        "form": form or LinkPasswordForm(),
        "unlocked": _unlocked(request, link),
        "tenant": request.tenant,
        "left": None if link.max_downloads is None else max(0, link.max_downloads - link.downloads),
    }
    if context["problem"] and status == 200:
        status = 410
    response = render(request, "content/shared_link.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    # Not "no-referrer": Chromium would then send "Origin: null" with the password form (CSRF refuses it).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def shared_link(request, signed):
    """The page a link opens, for anyone: the file's name and size, and its password form when set."""
    link = _public_link(request, signed)
    if request.method == "POST" and link.password and not sharing.share_link_problem(link):
        form = LinkPasswordForm(request.POST)
        if form.is_valid():
            try:
                right = sharing.share_link_password_check(
                    link=link, password=form.cleaned_data["password"], ip=client_ip(request),
                    schema=connection.schema_name,
                )  # fmt: skip
            except lockout.Locked as exc:
                minutes = max(1, round(exc.seconds / 60))
                form.add_error("password", f"Too many wrong passwords: try again in {minutes} minute(s).")
                return _shared_page(request, link, form=form, status=429)
            if right:
                request.session[f"content_link_{link.pk}"] = link.password[-16:]
                return redirect(request.path)
            form.add_error("password", "That is not the password.")
        return _shared_page(request, link, form=form, status=400)
    return _shared_page(request, link)


def shared_download(request, signed):
    link = _public_link(request, signed)
    if not _unlocked(request, link):
        return redirect("content:shared_link", signed=signed)
    # A download counts once: a request resuming one this browser started (a Range not from the
    # first byte) does not count again; anyone else's does.
    wanted = request.headers.get("Range", "")
    started = f"content_link_started_{link.pk}"
    resumed = wanted.startswith("bytes=") and not wanted.startswith("bytes=0-") and request.session.get(started)
    try:
        version = sharing.share_link_download(tenant=request.tenant, link=link, count=not resumed)
    except sharing.LinkUnavailable as exc:
        return _shared_page(request, link, problem=str(exc), status=410)
    request.session[started] = True
    return serving.version_response(request, schema=connection.schema_name, version=version)


# --- folder shares ------------------------------------------------------------------------------


def _members(request):
    return [m.user for m in member_list(tenant=request.tenant).select_related("user")]


@tenant_member_required("content.view")
def folder_shares(request, folder_id):
    folder = folder_or_404(folder_id)
    can_manage = request.membership.allows("content.manage")
    form = FolderShareForm(request.POST or None, members=_members(request))
    if request.method == "POST":
        if not can_manage:
            return render(request, "identity/forbidden.html", {"reason": "role"}, status=403)
        if form.is_valid():
            user = next(u for u in _members(request) if u.pk == form.cleaned_data["user"])
            try:
                sharing.folder_share(
                    tenant=request.tenant, actor=request.user, folder=folder, user=user, role=form.cleaned_data["role"]
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"“{folder.name}” is shared with {user.get_full_name() or user.email}.")
                return redirect("content:folder_shares", folder_id=folder.pk)
    table = data_table(request, FolderSharesTable, sharing.folder_share_list(folder=folder))
    if table.response:
        return table.response
    context = {
        "folder": folder, "path": selectors.folder_path(folder), "table": table, "form": form,
        "can_manage": can_manage,
        "access": sharing.folder_access(membership=request.membership, folder=folder),
    }  # fmt: skip
    return render(request, "content/folder_shares.html", context, status=400 if form.errors else 200)


@require_POST
@tenant_member_required("content.manage")
def folder_unshare(request, folder_id, share_id):
    folder = folder_or_404(folder_id)
    share = FolderShare.objects.select_related("user", "folder").filter(folder=folder, pk=share_id).first()
    if share is None:
        raise Http404
    sharing.folder_unshare(tenant=request.tenant, actor=request.user, share=share)
    messages.success(request, f"“{folder.name}” is no longer shared with {share.user.email}.")
    return redirect("content:folder_shares", folder_id=folder.pk)
