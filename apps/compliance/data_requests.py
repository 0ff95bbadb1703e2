"""Data subject requests (GDPR articles 15–20, CCPA): a person asks for a copy of their data, its
erasure or its correction, and the organisation answers by the law's due date.

- Opened by the person for themselves (their signed-in session is their identity) or by an admin
  for a member, the admin either saying how they checked who asked or letting the hub e-mail the
  person a link to confirm. Refused at once: an address no member has, a second open request of
  the same kind, the erasure of the organisation's only owner, a correction that says nothing.
- Access and portability: once verified, a Celery task gathers every app's export (the registry's
  data exporters) into a ZIP of JSON and CSV files, with progress, kept in storage behind a signed
  link that expires; the person is told.
- Erasure: an admin carries it out; every app's eraser runs in one transaction (deleting or
  anonymising as each app declares), the person's API keys are revoked and their sessions end,
  and an ErasureRecord (public schema, outside the tenant's backups) lets a restore replay it.
- Rectification: an admin corrects the data and completes the request saying what changed.
- Each answered request has a certificate of completion (PDF). Admins are reminded daily of
  requests due within REMIND_DAYS or overdue.
"""

import csv
import hashlib
import io
import json
import logging
import secrets
import tempfile
import zipfile
from datetime import date, timedelta

import orjson
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.api.models import ApiKey
from apps.api.services import api_key_revoke
from apps.core.events import publish
from apps.core.links import LinkExpired, tenant_link_read, tenant_link_token  # noqa: F401 (LinkExpired: the views')
from apps.core.registry import registry
from apps.core.taskref import TaskRef
from apps.identity.models import ErasureRecord, Membership, User, email_fingerprint, email_fingerprints
from apps.identity.roles import Role, can_manage, has_permission
from apps.tenancy.emails import email_message, email_subject
from apps.tenancy.regions import region_storage
from apps.tenancy.services import tenant_url

from .models import UNFINISHED, DataRequest

log = logging.getLogger(__name__)
MANAGE = "compliance.manage"
DUE_DAYS = {DataRequest.Law.GDPR: 30, DataRequest.Law.CCPA: 45}
REMIND_DAYS = 7
LINK_DAYS = 7  # how long the e-mailed links (confirm, download) work
COPIES = (DataRequest.Kind.ACCESS, DataRequest.Kind.PORTABILITY)
BUILD = TaskRef("apps.compliance.tasks.data_request_build")
_VERIFY_SALT, _DOWNLOAD_SALT = "compliance.request.verify", "compliance.request.download"
ERASED_NAME = "Erased person"


def file_prefix(schema: str | None = None) -> str:
    return f"compliance/{schema or connection.schema_name}/requests/"


def _is_manager(actor: Membership) -> bool:
    return has_permission(actor.role, MANAGE)


def _subject_of(email: str, tenant) -> Membership | None:
    email = (email or "").strip()
    if not email:
        return None
    return Membership.objects.select_related("user").filter(tenant=tenant, user__email__iexact=email).first()


def _only_owner(membership: Membership) -> bool:
    return (
        membership.role == Role.OWNER
        and not Membership.objects.filter(tenant_id=membership.tenant_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    )


def _payload(request: DataRequest, **extra) -> dict:
    """No name or address in the event: the subject is named when the event is read (an erased
    person then reads as one)."""
    return {
        "request_id": request.pk,
        "kind": request.kind,
        "law": request.law,
        "subject_id": request.subject_id,
        "due": request.due_at.date().isoformat(),
        **extra,
    }


def data_request_open(
    *,
    tenant,
    actor: Membership,
    kind: str,
    law: str = "gdpr",
    email: str = "",
    details: str = "",
    verified_how: str = "",
) -> DataRequest:
    """Opens a request for the member with `email` (empty: the actor themselves). Only someone
    who may manage compliance opens one for another member; `verified_how` is how they checked
    it is really that person (empty: the person is e-mailed a link to confirm)."""
    email = (email or "").strip() or actor.user.email
    own = email.lower() == actor.user.email.lower()
    if not own and not _is_manager(actor):
        raise PermissionDenied("Your role allows requests about your own data only.")
    errors: dict[str, list[str]] = {}
    if kind not in DataRequest.Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(DataRequest.Kind.values)}."]
    if law not in DataRequest.Law.values:
        errors["law"] = [f"Choose one of: {', '.join(DataRequest.Law.values)}."]
    details = (details or "").strip()[:5000]
    if kind == DataRequest.Kind.RECTIFICATION and not details:
        errors["details"] = ["Say what is wrong and what it should be."]
    subject = actor if own else _subject_of(email, tenant)
    if subject is None:
        errors["email"] = [f"No member of {tenant.name} has the address {email}."]
    elif not own and kind == DataRequest.Kind.ERASURE and not can_manage(actor.role, subject.role):
        errors["email"] = ["Only an owner can ask for an owner's erasure."]
    elif kind == DataRequest.Kind.ERASURE and _only_owner(subject):
        who = "You are" if own else f"{subject.user.get_full_name()} is"
        errors["email" if not own else "kind"] = [
            f"{who} the organisation's only owner: make someone else an owner first, then erase."
        ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        open_one = (
            DataRequest.objects.select_for_update()
            .filter(subject=subject.user, kind=kind, status__in=UNFINISHED)
            .order_by("pk")
            .first()
        )
        if open_one is not None:
            whose = "You have" if own else f"{subject.user.get_full_name()} has"
            raise ValidationError(
                {
                    "kind": [
                        f"{whose} an open {open_one.kind_word} request already (#{open_one.pk}, opened "
                        f"{open_one.opened_at:%-d %B %Y}): answer it first."
                    ]
                }
            )
        now = timezone.now()
        verified = own or bool(verified_how.strip())
        request = _created(
            kind=kind,
            law=law,
            subject=subject.user,
            subject_name=subject.user.get_full_name(),
            details=details,
            opened_by=actor.user,
            due_at=now + timedelta(days=DUE_DAYS[law]),
            status=DataRequest.Status.OPEN if verified else DataRequest.Status.UNVERIFIED,
            verified_at=now if verified else None,
            verification=(
                "Signed in as themselves"
                if own
                else (f"Checked by {actor.user.get_full_name()}: {verified_how.strip()[:200]}" if verified else "")
            ),
        )
        publish("compliance.data_request_opened", _payload(request), tenant=tenant, actor=actor.user)
        if verified:
            _build_on_commit(request)
        else:
            transaction.on_commit(lambda: _send_confirmation(request, tenant))
    return request


def _created(**fields) -> DataRequest:
    """The request, or the reason two opened at once were refused (one unanswered per person and kind)."""
    try:
        with transaction.atomic():
            return DataRequest.objects.create(**fields)
    except IntegrityError:
        raise ValidationError({"kind": ["This person has an open request of this kind already."]}) from None


def _build_on_commit(request: DataRequest) -> None:
    if request.kind in COPIES:
        schema = connection.schema_name
        transaction.on_commit(lambda: BUILD.apply_async(args=[request.pk], headers={"_schema_name": schema}))


# --- Confirming who asked ---------------------------------------------------------------------


def confirm_token(request: DataRequest) -> str:
    return tenant_link_token({"r": request.pk}, salt=_VERIFY_SALT)


def _send_confirmation(request: DataRequest, tenant) -> None:
    url = tenant_url(tenant, reverse("compliance:request_confirm", args=[confirm_token(request)]))
    context = {"request": request, "tenant": tenant, "url": url, "days": LINK_DAYS}
    email_message(
        subject=email_subject(f"Confirm your {request.kind_word} request", tenant),
        to=[request.subject.email],
        text=render_to_string("compliance/email/confirm_request.txt", context),
        tenant=tenant,
    ).send()


def _signed(token: str, salt: str) -> dict | None:
    return tenant_link_read(token, salt=salt, max_age=timedelta(days=LINK_DAYS))


def confirm_find(token: str) -> DataRequest | None:
    data = _signed(token, _VERIFY_SALT)
    return DataRequest.objects.filter(pk=data.get("r")).select_related("subject").first() if data else None


def data_request_confirm(*, tenant, request: DataRequest) -> DataRequest:
    """The person followed the e-mailed link (it reached their mailbox: it is them)."""
    with transaction.atomic():
        claimed = DataRequest.objects.filter(pk=request.pk, status=DataRequest.Status.UNVERIFIED).update(
            status=DataRequest.Status.OPEN,
            verified_at=timezone.now(),
            verification="Confirmed by the person from a link e-mailed to their address",
        )
        request.refresh_from_db()
        if claimed:
            _build_on_commit(request)
    return request


# --- Access and portability: the copy ---------------------------------------------------------


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    columns = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return ("\ufeff" + out.getvalue()).encode()


def _cell(value):
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder)
    return "" if value is None else value


_ORJSON = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
_json_default = DjangoJSONEncoder().default  # what orjson leaves (Decimal, lazy text, durations)


def _tables(export) -> dict[str, list[dict]]:
    """The parts of an app's export that are tables (lists of records, or one record)."""
    if not isinstance(export, dict):
        return {}
    tables = {}
    for name, value in export.items():
        if isinstance(value, list) and all(isinstance(row, dict) for row in value):
            tables[name] = value
        elif isinstance(value, dict) and not any(isinstance(v, list | dict) for v in value.values()):
            tables[name] = [value]
    return tables


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)


def copy_write(out, *, user, request: DataRequest | None = None, on_progress=None) -> dict[str, int]:
    """Writes the ZIP of the person's data to the binary file `out`: per app, all of it as JSON
    and each of its tables as CSV, and a README. Returns the rows per app."""
    exporters = list(registry["data_exporters"].values())
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n, exporter in enumerate(exporters, start=1):
            export = exporter.export(user=user)
            tables = _tables(export)
            counts[exporter.key] = sum(len(rows) for rows in tables.values())
            archive.writestr(f"{exporter.key}.json", orjson.dumps(export, default=_json_default, option=_ORJSON))
            for name, rows in tables.items():
                if rows:
                    archive.writestr(f"csv/{exporter.key}/{_safe(name)}.csv", _csv(rows))
            if on_progress:
                on_progress(min(99, 100 * n // len(exporters)))
        parts = [(e.key, e.label, counts[e.key]) for e in exporters]
        context = {"request": request, "user": user, "parts": parts}
        archive.writestr("README.txt", render_to_string("compliance/copy_readme.txt", context))
    return counts


def data_request_build(*, request_id: int, tenant) -> DataRequest | None:
    """Makes the copy of an open access or portability request (the task calls it)."""
    claimed = DataRequest.objects.filter(
        pk=request_id, status=DataRequest.Status.OPEN, kind__in=COPIES, subject__isnull=False
    ).update(status=DataRequest.Status.RUNNING, progress=1)
    if not claimed:
        return None  # delivered twice, answered or refused meanwhile, or gone
    request = DataRequest.objects.select_related("subject").get(pk=request_id)

    def progress(percent: int) -> None:
        DataRequest.objects.filter(pk=request_id).update(progress=percent)

    try:
        with tempfile.TemporaryFile() as out:
            counts = copy_write(out, user=request.subject, request=request, on_progress=progress)
            out.seek(0)
            name = region_storage().save(f"{file_prefix()}{request.pk}-{secrets.token_hex(8)}.zip", File(out))
            size = region_storage().size(name)
    except Exception:  # noqa: BLE001 — a failed copy says so on its page and can be made again
        log.exception("compliance: the copy of request %s failed", request_id)
        DataRequest.objects.filter(pk=request_id).update(
            status=DataRequest.Status.FAILED, resolution="The copy could not be made; make it again."
        )
        return DataRequest.objects.get(pk=request_id)
    with transaction.atomic():
        request.status, request.progress, request.file, request.file_size = DataRequest.Status.DONE, 100, name, size
        request.rows, request.outcome, request.completed_at = sum(counts.values()), counts, timezone.now()
        request.save(update_fields=["status", "progress", "file", "file_size", "rows", "outcome", "completed_at"])
        publish("compliance.data_request_completed", _payload(request, rows=request.rows), tenant=tenant)
    return request


def copies_delete(requests) -> int:
    """Deletes the files of these requests' copies (after commit: a rolled-back erasure keeps them)."""
    names = list(requests.values_list("file", flat=True))
    requests.update(file="", file_size=0)
    storage = region_storage()
    transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return len(names)


def copies_prune(*, now=None) -> int:
    """Daily: the copies made more than LINK_DAYS ago are deleted (the person was told how long)."""
    cutoff = (now or timezone.now()) - timedelta(days=LINK_DAYS)
    with transaction.atomic():
        return copies_delete(DataRequest.objects.filter(completed_at__lt=cutoff).exclude(file=""))


STALE = timedelta(hours=1)  # a copy "being made" for longer than this was lost with its worker


def is_stale(request: DataRequest) -> bool:
    return request.status == DataRequest.Status.RUNNING and (request.verified_at or request.opened_at) < (
        timezone.now() - STALE
    )


def data_request_retry(*, actor: Membership, request: DataRequest) -> DataRequest:
    if not _is_manager(actor) and request.subject_id != actor.user_id:
        raise PermissionDenied("Only the person or an admin can make the copy again.")
    if not (request.status == DataRequest.Status.FAILED or is_stale(request)) or request.kind not in COPIES:
        raise ValidationError("Only a copy that failed can be made again.")
    try:
        with transaction.atomic():
            DataRequest.objects.filter(pk=request.pk).update(status=DataRequest.Status.OPEN, progress=0, resolution="")
            request.refresh_from_db()
            _build_on_commit(request)
    except IntegrityError:
        raise ValidationError("A newer request of this kind is open: its copy is the one being made.") from None
    return request


def download_token(request: DataRequest) -> str:
    return tenant_link_token({"r": request.pk, "f": request.file}, salt=_DOWNLOAD_SALT)


def download_url(request: DataRequest) -> str:
    return reverse("compliance:request_download", args=[download_token(request)])


def download_find(token: str, *, user, membership: Membership | None) -> DataRequest | None:
    """The finished copy a link names, for the person it is about or an admin of this tenant:
    None for anyone else, another tenant's link or a file since replaced; LinkExpired when old."""
    data = _signed(token, _DOWNLOAD_SALT)
    if data is None:
        return None
    request = DataRequest.objects.filter(pk=data.get("r"), status=DataRequest.Status.DONE, kind__in=COPIES).first()
    if request is None or not request.file or request.file != data.get("f"):
        return None
    if not request.file.startswith(file_prefix()):
        return None
    if request.subject_id != user.pk and not (membership is not None and _is_manager(membership)):
        return None
    return request


# --- Erasure, rectification, refusal ----------------------------------------------------------


def _require_manager(actor: Membership, what: str) -> None:
    if not _is_manager(actor):
        raise PermissionDenied(f"Your role does not allow {what}.")


def _erasers():
    """Every app's eraser, identity's last: it may anonymise the account, and the others find the
    person's rows by their address too."""
    erasers = list(registry["data_erasers"].values())
    return sorted(erasers, key=lambda e: e.key == "identity")


def erase_person(*, user: User) -> dict[str, int]:
    """Erases the person from the organisation being served: their API keys revoked, then every
    app's eraser. Returns the rows changed per app."""
    outcome = {}
    keys = ApiKey.objects.filter(created_by=user, revoked_at__isnull=True)
    outcome["api keys revoked"] = len([api_key_revoke(actor=None, key=key) for key in keys])
    for eraser in _erasers():
        outcome[eraser.key] = int(eraser.erase(user=user) or 0)
    return outcome


def data_request_erase(*, tenant, actor: Membership, request: DataRequest) -> DataRequest:
    """Carries out an open erasure request, all of it or nothing."""
    _require_manager(actor, "erasing people's data")
    if request.kind != DataRequest.Kind.ERASURE or request.status != DataRequest.Status.OPEN:
        raise ValidationError("Only an open erasure request, its person confirmed, can be carried out.")
    with transaction.atomic():
        request = DataRequest.objects.select_for_update(of=("self",)).select_related("subject").get(pk=request.pk)
        if request.status != DataRequest.Status.OPEN:
            raise ValidationError("This request was answered meanwhile.")
        user = request.subject
        list(Membership.objects.select_for_update().filter(tenant=tenant, role=Role.OWNER))  # one erasure at a time
        membership = Membership.objects.filter(tenant=tenant, user=user).first() if user else None
        if membership is not None and _only_owner(membership):
            raise ValidationError(
                f"{user.get_full_name()} is the organisation's only owner: make someone else an owner first."
            )
        if (
            membership is not None
            and membership.user_id != actor.user_id
            and not can_manage(actor.role, membership.role)
        ):
            raise ValidationError("Only an owner can erase an owner's data.")
        fingerprint = email_fingerprint(user.email) if user else ""
        outcome = erase_person(user=user) if user else {}
        if user is not None:
            copies_delete(DataRequest.objects.filter(subject=user).exclude(file=""))
        if user is not None:
            ErasureRecord.objects.create(
                tenant_slug=tenant.slug, fingerprint=fingerprint, user_id=user.pk, request_id=request.pk
            )
        request.status, request.completed_at, request.completed_by = (
            DataRequest.Status.DONE,
            timezone.now(),
            actor.user,
        )
        request.outcome, request.rows = outcome, sum(outcome.values())
        request.subject_name = f"{ERASED_NAME} #{request.subject_id}"
        request.details = ""  # what they wrote may name them
        request.save()
        publish(
            "compliance.data_request_completed", _payload(request, rows=request.rows), tenant=tenant, actor=actor.user
        )
    return request


def data_request_complete(*, tenant, actor: Membership, request: DataRequest, note: str) -> DataRequest:
    """A rectification request answered: the admin says what they corrected."""
    _require_manager(actor, "answering data requests")
    note = (note or "").strip()
    if request.kind != DataRequest.Kind.RECTIFICATION or request.status != DataRequest.Status.OPEN:
        raise ValidationError({"note": ["Only an open rectification request is completed this way."]})
    if not note:
        raise ValidationError({"note": ["Say what was corrected."]})
    return _finish(tenant, actor, request, DataRequest.Status.DONE, note, "compliance.data_request_completed")


def data_request_refuse(*, tenant, actor: Membership, request: DataRequest, reason: str) -> DataRequest:
    """Refused with the reason the person reads (e.g. the law's exemption that applies)."""
    _require_manager(actor, "refusing data requests")
    reason = (reason or "").strip()
    answerable = (DataRequest.Status.UNVERIFIED, DataRequest.Status.OPEN, DataRequest.Status.FAILED)
    if request.status not in answerable and not is_stale(request):
        raise ValidationError({"reason": ["This request is already answered, or being answered."]})
    if not reason:
        raise ValidationError({"reason": ["Give the reason the person will read."]})
    return _finish(tenant, actor, request, DataRequest.Status.REFUSED, reason, "compliance.data_request_refused")


def _finish(tenant, actor, request, status, text, event_type) -> DataRequest:
    with transaction.atomic():
        request.status, request.resolution = status, text[:5000]
        request.completed_at, request.completed_by = timezone.now(), actor.user
        request.save(update_fields=["status", "resolution", "completed_at", "completed_by"])
        publish(event_type, _payload(request), tenant=tenant, actor=actor.user)
    return request


# --- Reminders, restores ----------------------------------------------------------------------


def data_requests_remind(*, tenant, today: date | None = None) -> int:
    """Once a day: an event (its notification goes to the admins) for each unanswered request due
    within REMIND_DAYS days or overdue. Returns how many."""
    today = today or timezone.localdate()
    due = DataRequest.objects.filter(
        status__in=UNFINISHED, due_at__date__lte=today + timedelta(days=REMIND_DAYS)
    ).exclude(reminded_on=today)
    count = 0
    for request in due:
        with transaction.atomic():
            if not DataRequest.objects.filter(pk=request.pk).exclude(reminded_on=today).update(reminded_on=today):
                continue
            days = (request.due_at.date() - today).days
            publish("compliance.data_request_due", _payload(request, days_left=days), tenant=tenant)
            count += 1
    return count


def erasures_replay(*, tenant, slugs: set[str], users, since=None) -> int:
    """After a restore: the restored people who were erased from this organisation (by the
    ErasureRecords of `slugs`: its slug then and now) after the backup was made (`since`) are
    erased again — someone erased and then invited back before the backup stays. Returns how many."""
    records = ErasureRecord.objects.filter(tenant_slug__in=slugs)
    if since is not None:
        records = records.filter(erased_at__gt=since)
    wanted = set(records.values_list("fingerprint", flat=True))
    if not wanted:
        return 0
    count = 0
    for user in users:
        if email_fingerprints(user.email) & wanted:
            erase_person(user=user)
            count += 1
    return count


# --- The certificate --------------------------------------------------------------------------


def part_labels() -> dict[str, str]:
    """How people name each part of an outcome (an app's exporter or eraser, by key)."""
    labels = {e.key: e.label for e in registry["data_exporters"].values()}
    labels.update({e.key: e.label for e in registry["data_erasers"].values()})
    return {**labels, "api keys revoked": "API keys revoked"}


def outcome_words(request: DataRequest) -> list[tuple[str, int]]:
    """(part, records) of what answering the request did, as people name the parts."""
    labels = part_labels()
    return [(labels.get(key, key), count) for key, count in request.outcome.items()]


def certificate_pdf(*, tenant, request: DataRequest) -> bytes:
    """The certificate of completion of an answered request (PDF, WeasyPrint)."""
    from weasyprint import HTML

    if not request.finished:
        raise ValidationError("A certificate is made once the request is answered.")
    outcome = outcome_words(request)
    facts = {
        "organisation": tenant.name,
        "request": request.pk,
        "kind": request.kind,
        "status": request.status,
        "opened_at": request.opened_at.isoformat(),
        "completed_at": request.completed_at.isoformat() if request.completed_at else "",
        "outcome": request.outcome,
    }
    reference = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    context = {"tenant": tenant, "request": request, "outcome": outcome, "reference": reference, "now": timezone.now()}
    return HTML(string=render_to_string("compliance/certificate_pdf.html", context)).write_pdf()


def tenant_restored(sender, *, tenant, slugs, users, made_at=None, **kwargs) -> str:
    """Receiver of apps.tenancy's tenant_restored: the erasures made since the backup, again."""
    from django_tenants.utils import schema_context

    with schema_context(tenant.schema_name):
        count = erasures_replay(tenant=tenant, slugs=slugs, users=users, since=made_at)
    return f"{count} erasure{'s' if count != 1 else ''} of people made since the backup replayed" if count else ""
