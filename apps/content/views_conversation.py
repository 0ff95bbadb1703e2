"""Comments on documents and folders (htmx: the forms swap the comments section in place; without
JavaScript they post and come back), and the members a comment may mention."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.identity.decorators import tenant_member_required
from apps.identity.selectors import member_list

from . import comments, selectors
from .forms import CommentForm
from .lookups import document_or_404, folder_or_404, may_edit
from .models import Comment, Document, Folder


def comments_context(request, *, document=None, folder=None, form=None) -> dict:
    subject_folder = document.folder if document is not None else folder
    can_edit = may_edit(request, subject_folder)
    threads = comments.thread_list(document=document, folder=folder)
    for thread in threads:
        thread.all_comments = [thread, *thread.thread_replies]
        for comment in thread.all_comments:
            comment.html = comments.comment_html(comment)
            comment.mine = comment.author_id == request.user.pk
        thread.can_resolve = can_edit or thread.mine
    post_url = (
        reverse("content:document_comments", args=[document.pk])
        if document is not None
        else reverse("content:folder_comments", args=[folder.pk])
    )
    return {
        "threads": threads,
        "open_count": sum(1 for t in threads if t.resolved_at is None),
        "comment_form": form or CommentForm(),
        "comments_url": post_url,
    }


def _answer(request, *, document=None, folder=None, form=None):
    """The comments section (htmx: always 200, which htmx swaps in, the form's errors under its
    field), or back to the page it is on."""
    if request.headers.get("HX-Request"):
        context = comments_context(request, document=document, folder=folder, form=form)
        return render(request, "content/_comments.html", context)
    if form is not None and form.errors:
        for error in form.errors.get("body", []):
            messages.error(request, error)
    if document is not None:
        return redirect(reverse("content:document", args=[document.pk]) + "#comments")
    return redirect("content:folder_comments", folder_id=folder.pk)


def _add(request, *, document=None, folder=None):
    form = CommentForm(request.POST)
    if form.is_valid():
        parent = None
        if form.cleaned_data["parent"]:
            try:
                parent = comments.comment_get(pk=form.cleaned_data["parent"], document=document, folder=folder)
            except Comment.DoesNotExist:
                raise Http404 from None
        try:
            comments.comment_add(
                tenant=request.tenant, actor=request.user, body=form.cleaned_data["body"],
                document=document, folder=folder, parent=parent,
            )  # fmt: skip
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _answer(request, document=document, folder=folder)
    return _answer(request, document=document, folder=folder, form=form)


@tenant_member_required("content.view")
def document_comments(request, pk):
    document = document_or_404(pk)
    if request.method == "POST":
        return _add(request, document=document)
    return render(request, "content/_comments.html", comments_context(request, document=document))


@tenant_member_required("content.view")
def folder_comments(request, folder_id):
    folder = folder_or_404(folder_id)
    if request.method == "POST":
        return _add(request, folder=folder)
    context = {"folder": folder, "path": selectors.folder_path(folder), **comments_context(request, folder=folder)}
    return render(request, "content/folder_comments.html", context)


def _comment(pk) -> Comment:
    """A comment on a live document or folder, or 404."""
    comment = Comment.objects.select_related("document", "folder", "parent", "author").filter(pk=pk).first()
    if comment is None:
        raise Http404
    try:
        if comment.document_id:
            selectors.document_get(pk=comment.document_id)
        else:
            selectors.folder_get(pk=comment.folder_id)
    except (Document.DoesNotExist, Folder.DoesNotExist):
        raise Http404 from None
    return comment


def _subject(comment: Comment) -> dict:
    return {"document": comment.document} if comment.document_id else {"folder": comment.folder}


@require_POST
@tenant_member_required("content.view")
def comment_edit(request, pk):
    comment = _comment(pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comments.comment_edit(
                tenant=request.tenant, actor=request.user, comment=comment, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
    return _answer(request, **_subject(comment), form=form if form.errors else None)


@require_POST
@tenant_member_required("content.view")
def comment_resolve(request, pk):
    comment = _comment(pk)
    root = comment.parent or comment
    folder = comment.document.folder if comment.document_id else comment.folder
    if root.author_id != request.user.pk and not may_edit(request, folder):
        raise PermissionDenied("Only the thread's author or an editor can resolve it.")
    comments.thread_resolve(
        tenant=request.tenant, actor=request.user, comment=comment, resolved=request.POST.get("action") != "reopen"
    )
    return _answer(request, **_subject(comment))


@tenant_member_required("content.view")
def comment_history(request, pk):
    comment = _comment(pk)
    revisions = comment.revisions.select_related("edited_by")
    return render(request, "content/comment_history.html", {"comment": comment, "revisions": revisions})


@tenant_member_required("content.view")
def mention_candidates(request):
    """Members of this organisation whose name or address starts a word with `q` (the @ autocomplete)."""
    query = request.GET.get("q", "").strip().lower()
    found = []
    for membership in member_list(tenant=request.tenant).select_related("user"):
        user = membership.user
        words = [*(user.get_full_name() or "").lower().split(), user.email.lower()]
        if not query or any(w.startswith(query) for w in words):
            found.append({"email": user.email, "name": user.get_full_name() or user.email})
        if len(found) >= 8:
            break
    return JsonResponse({"members": found})
