"""Conversation: comments on documents and folders, in threads, with @mentions.

A mention is `@` and a member's e-mail address (the page's autocomplete writes it). Only members of
the comment's own tenant are mentioned: any other address stays plain text and notifies nobody.
A new mention (on writing, or added by an edit) publishes `content.member_mentioned`, whose
notification rule tells the mentioned members in-app, by e-mail and live (apps.notifications).
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django_tenants.utils import schema_context

from apps.core.events import publish
from apps.identity.models import User
from apps.identity.selectors import member_list

from .models import Comment, CommentRevision, Document, Folder

MAX_BODY = 5000
MENTION = re.compile(r"(?<![\w.+-])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")


def mentioned_members(*, tenant, body: str) -> list[User]:
    """The members of `tenant` mentioned in `body` (addresses of anyone else are ignored)."""
    emails = {m.lower() for m in MENTION.findall(body)}
    if not emails:
        return []
    members = member_list(tenant=tenant, ordered=False).select_related("user")
    return [m.user for m in members if m.user.email.lower() in emails]


def _clean(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": ["Write something first."]})
    if len(body) > MAX_BODY:
        raise ValidationError(
            {"body": [f"A comment has at most {MAX_BODY:,} characters (this one has {len(body):,})."]}
        )
    return body


def _subject(comment: Comment) -> dict:
    if comment.document_id:
        return {"document_id": comment.document_id, "folder_id": None, "name": comment.document.name}
    return {"document_id": None, "folder_id": comment.folder_id, "name": comment.folder.name}


def _payload(comment: Comment, **extra) -> dict:
    return {"comment_id": comment.pk, "thread_id": comment.parent_id or comment.pk, **_subject(comment),
            "excerpt": comment.body[:200], **extra}  # fmt: skip


def _mention(tenant, actor, comment: Comment, users: list[User]) -> None:
    new = [u for u in users if u.pk != getattr(actor, "pk", None)]
    comment.mentions.add(*users)
    if new:
        publish("content.member_mentioned", _payload(comment, user_ids=[u.pk for u in new]), tenant=tenant, actor=actor)


def comment_add(
    *, tenant, actor, body: str, document: Document | None = None, folder: Folder | None = None, parent=None
) -> Comment:
    """A comment on the document or folder, or (parent) a reply in the parent's thread."""
    body = _clean(body)
    with schema_context(tenant.schema_name), transaction.atomic():
        if parent is not None:
            parent = parent.parent or parent  # threads are one level deep
            document, folder = parent.document, parent.folder
        if (document is None) == (folder is None):
            raise ValidationError({"body": ["A comment is on one document or one folder."]})
        comment = Comment.objects.create(document=document, folder=folder, parent=parent, author=actor, body=body)
        publish("content.comment_added", _payload(comment), tenant=tenant, actor=actor)
        _mention(tenant, actor, comment, mentioned_members(tenant=tenant, body=body))
    return comment


def comment_edit(*, tenant, actor, comment: Comment, body: str) -> Comment:
    """Only its author edits a comment; the text before is kept; new mentions notify."""
    if comment.author_id != actor.pk:
        raise PermissionDenied("Only its author can edit a comment.")
    body = _clean(body)
    if body == comment.body:
        return comment
    with schema_context(tenant.schema_name), transaction.atomic():
        before = set(comment.mentions.values_list("pk", flat=True))
        CommentRevision.objects.create(comment=comment, body=comment.body, edited_by=actor)
        comment.body, comment.edited_at = body, timezone.now()
        comment.save(update_fields=["body", "edited_at"])
        publish("content.comment_edited", _payload(comment), tenant=tenant, actor=actor)
        users = mentioned_members(tenant=tenant, body=body)
        _mention(tenant, actor, comment, [u for u in users if u.pk not in before])
    return comment


def thread_resolve(*, tenant, actor, comment: Comment, resolved: bool = True) -> Comment:
    """Resolves (or reopens) the comment's whole thread."""
    root = comment.parent or comment
    with schema_context(tenant.schema_name), transaction.atomic():
        if (root.resolved_at is not None) != resolved:
            root.resolved_at, root.resolved_by = (timezone.now(), actor) if resolved else (None, None)
            root.save(update_fields=["resolved_at", "resolved_by"])
            event = "content.thread_resolved" if resolved else "content.thread_reopened"
            publish(event, _payload(root), tenant=tenant, actor=actor)
    return root


def thread_list(*, document: Document | None = None, folder: Folder | None = None) -> list[Comment]:
    """The threads on a document or folder, oldest first, each with `.thread_replies`."""
    comments = (
        Comment.objects.filter(document=document) if document is not None else Comment.objects.filter(folder=folder)
    )
    comments = list(comments.select_related("author", "resolved_by").prefetch_related("mentions"))
    roots = [c for c in comments if c.parent_id is None]
    for root in roots:
        root.thread_replies = [c for c in comments if c.parent_id == root.pk]
    return roots


def comment_get(*, pk, document: Document | None = None, folder: Folder | None = None) -> Comment:
    where = {"document": document} if document is not None else {"folder": folder}
    return Comment.objects.select_related("document", "folder", "author").get(pk=pk, **where)


def comment_html(comment: Comment) -> str:
    """The comment's text, escaped, with line breaks and its mentions of members highlighted."""
    names = {u.email.lower(): u.get_full_name() or u.email for u in comment.mentions.all()}

    def mention(match):
        email = match.group(1)
        if email.lower() in names:
            return format_html('<span class="mention" title="{}">@{}</span>', email, names[email.lower()])
        return escape(match.group(0))

    parts, last = [], 0
    for match in MENTION.finditer(comment.body):
        parts.append(escape(comment.body[last : match.start()]))
        parts.append(mention(match))
        last = match.end()
    parts.append(escape(comment.body[last:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308 (every part escaped above)
