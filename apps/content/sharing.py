"""Sharing: public download links of documents, and folders shared with members with a role.

Links. A link's address is `/content/s/<token>:<signature>/` on the tenant's host: the token is
random (32 bytes), only its SHA-256 is stored, and the signature (django.core.signing, salted with
the tenant's schema) makes a token of one tenant worthless on another's host and lets a forged
address be refused before any query. A link lapses at `expires_at`, may need a password (hashed by
Django's password hashers; wrong guesses are counted and locked out by apps.identity.lockout, as
log-ins are) and may allow only so many downloads: each download is counted by one conditional
UPDATE, so two at once can never pass the limit.

Folder shares. How they compose with the tenant's roles (docs/apps/content.md): the tenant role is
the floor everywhere (viewers see, members and above edit); a share gives a member a role in a
folder and every folder below it — "editor" lets a tenant viewer upload, version, rename, comment
on and trash there. A share never takes rights away. Admins (content.manage) share folders.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.events import publish
from apps.identity import lockout
from apps.identity.selectors import member_list

from .models import Document, Folder, FolderShare, ShareLink, Version

MAX_LINK_DAYS = 365
EDITOR, VIEWER = FolderShare.EDITOR, FolderShare.VIEWER
_RANK = {None: -1, VIEWER: 0, EDITOR: 1}


class LinkUnavailable(Exception):
    """The link cannot be used (any more): the message says why, in words."""


def _signer(schema: str) -> signing.Signer:
    return signing.Signer(salt=f"content.share-link.{schema}")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_link_path(*, schema: str, token: str) -> str:
    return f"/content/s/{_signer(schema).sign(token)}/"


# --- links: writes ------------------------------------------------------------------------------


def share_link_create(
    *,
    tenant,
    actor,
    document: Document,
    expires_at: datetime,
    version: Version | None = None,
    password: str = "",
    max_downloads: int | None = None,
) -> tuple[ShareLink, str]:
    """A new link and its address (shown once: only the token's hash is kept)."""
    errors = {}
    now = timezone.now()
    if expires_at <= now:
        errors["expires_at"] = ["Choose a time in the future."]
    elif expires_at > now + timedelta(days=MAX_LINK_DAYS):
        errors["expires_at"] = [f"A link works for at most {MAX_LINK_DAYS} days."]
    if max_downloads is not None and max_downloads < 1:
        errors["max_downloads"] = ["Allow at least one download, or leave it empty for no limit."]
    if version is not None and version.document_id != document.pk:
        errors["version"] = ["That version is not one of this document's."]
    if password and len(password) < 8:
        errors["password"] = ["A link's password has at least 8 characters."]
    if errors:
        raise ValidationError(errors)
    token = secrets.token_urlsafe(32)
    with schema_context(tenant.schema_name), transaction.atomic():
        link = ShareLink.objects.create(
            document=document, version=version, token_hash=_hash(token), expires_at=expires_at,
            password=make_password(password) if password else "", max_downloads=max_downloads, created_by=actor,
        )  # fmt: skip
        publish("content.link_created", _link_payload(link), tenant=tenant, actor=actor)
    return link, share_link_path(schema=tenant.schema_name, token=token)


def share_link_revoke(*, tenant, actor, link: ShareLink) -> ShareLink:
    """Ends the link at once (a second revoke changes nothing)."""
    with schema_context(tenant.schema_name), transaction.atomic():
        if ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            publish("content.link_revoked", _link_payload(link), tenant=tenant, actor=actor)
        link.refresh_from_db()
    return link


def share_link_download(*, tenant, link: ShareLink, count: bool = True) -> Version:
    """Counts one download (atomically: never past the limit) and gives the version to serve.
    `count=False` (the rest of a download this visitor started, resumed by a Range request) only
    checks the link is still on and unexpired: the download was counted when it started."""
    if not count:
        problem = share_link_problem(link, ignore_limit=True)
        if problem:
            raise LinkUnavailable(problem)
        return link.version or link.document.current
    with schema_context(tenant.schema_name), transaction.atomic():
        counted = (
            _usable(ShareLink.objects.filter(pk=link.pk))
            .filter(Q(max_downloads__isnull=True) | Q(downloads__lt=F("max_downloads")))
            .update(downloads=F("downloads") + 1)
        )
        link.refresh_from_db()
        if not counted:
            raise LinkUnavailable(share_link_problem(link) or "This link has been used up.")
        version = link.version or link.document.current
        payload = {**_link_payload(link), "downloads": link.downloads}
        publish("content.link_used", payload, tenant=tenant)
    return version


def share_link_password_check(*, link: ShareLink, password: str, ip: str | None, schema: str) -> bool:
    """Whether `password` opens the link. Raises lockout.Locked (seconds left) after too many wrong
    guesses for this link (or from this address, counted with log-ins)."""
    attempt = lockout.attempt_begin(email=f"content-link:{schema}:{link.pk}", ip=ip)
    if check_password(password, link.password):
        lockout.attempt_succeeded(attempt)
        return True
    return False


def _link_payload(link: ShareLink) -> dict:
    return {
        "link_id": link.pk,
        "document_id": link.document_id,
        "name": link.document.name,
        "version": link.version.number if link.version else None,
        "expires_at": link.expires_at.isoformat(),
    }


# --- links: reads -------------------------------------------------------------------------------


def _usable(links):
    return links.filter(revoked_at__isnull=True, expires_at__gt=timezone.now(), document__trashed_at__isnull=True)


def share_link_from_address(*, schema: str, signed: str) -> ShareLink | None:
    """The link an address names in the current schema, or None (forged, or another tenant's)."""
    try:
        token = _signer(schema).unsign(signed)
    except signing.BadSignature:
        return None
    return (
        ShareLink.objects.select_related("document__current__blob", "version__blob")
        .filter(token_hash=_hash(token))
        .first()
    )


def share_link_problem(link: ShareLink, *, ignore_limit: bool = False) -> str:
    """Why the link cannot be used, in words ("" when it can); `ignore_limit`: whatever its downloads."""
    if link.revoked_at is not None:
        return "This link was turned off by the person who shared it."
    if link.document.trashed_at is not None:
        return "The document this link shared was deleted."
    if link.expires_at <= timezone.now():
        return "This link has expired."
    if not ignore_limit and link.max_downloads is not None and link.downloads >= link.max_downloads:
        return "This link has been used up: it allowed a limited number of downloads."
    return ""


def share_link_list(*, document: Document):
    return document.share_links.select_related("created_by", "version", "document").order_by("-created")


def share_link_get(*, document: Document, pk) -> ShareLink:
    return share_link_list(document=document).get(pk=pk)


def link_state(link: ShareLink) -> str:
    """A word for the links table: Active, Expired, Turned off, Used up."""
    if link.revoked_at is not None:
        return "Turned off"
    if link.expires_at <= timezone.now():
        return "Expired"
    if link.max_downloads is not None and link.downloads >= link.max_downloads:
        return "Used up"
    return "Active"


# --- folder shares ------------------------------------------------------------------------------


def folder_share(*, tenant, actor, folder: Folder, user, role: str) -> FolderShare:
    """Shares the folder (and everything below it) with a member of the tenant, or changes their role."""
    if role not in (VIEWER, EDITOR):
        raise ValidationError({"role": ["Choose Viewer or Editor."]})
    if user is None or not member_list(tenant=tenant, ordered=False).filter(user=user).exists():
        raise ValidationError({"user": ["Choose a member of your organisation."]})
    with schema_context(tenant.schema_name), transaction.atomic():
        share, _ = FolderShare.objects.update_or_create(
            folder=folder, user=user, defaults={"role": role, "created_by": actor}
        )
        publish(
            "content.folder_shared",
            {"folder_id": folder.pk, "name": folder.name, "user_id": user.pk, "email": user.email, "role": role},
            tenant=tenant,
            actor=actor,
        )
    return share


def folder_unshare(*, tenant, actor, share: FolderShare) -> None:
    with schema_context(tenant.schema_name), transaction.atomic():
        payload = {
            "folder_id": share.folder_id, "name": share.folder.name, "user_id": share.user_id,
            "email": share.user.email, "role": share.role,
        }  # fmt: skip
        share.delete()
        publish("content.folder_unshared", payload, tenant=tenant, actor=actor)


def folder_share_list(*, folder: Folder):
    return folder.shares.select_related("user", "folder")


def _ancestors(folder: Folder | None) -> list[int]:
    ids = []
    while folder is not None:
        ids.append(folder.pk)
        folder = folder.parent
    return ids


@dataclass(frozen=True)
class Access:
    role: str | None  # "editor", "viewer" or None

    @property
    def can_view(self) -> bool:
        return self.role is not None

    @property
    def can_edit(self) -> bool:
        return self.role == EDITOR


def folder_access(*, membership, folder: Folder | None) -> Access:
    """What `membership` may do in `folder` (None: the top): the better of its tenant role and any
    share of the folder or a folder above it."""
    role = EDITOR if membership.allows("content.edit") else VIEWER if membership.allows("content.view") else None
    if role != EDITOR and folder is not None:
        shared = FolderShare.objects.filter(folder_id__in=_ancestors(folder), user_id=membership.user_id)
        for share_role in shared.values_list("role", flat=True):
            role = max(role, share_role, key=_RANK.get)
    return Access(role)


def link_lifetime_default() -> datetime:
    return timezone.now() + timedelta(days=settings.HUB_CONTENT_LINK_DAYS)
