"""Data subject requests: a member asks for a copy (a ZIP of JSON and CSV from every app, behind a
signed link only they and the admins can use), an admin opens one for a member who confirms it by
an e-mailed link, an erasure across apps (keys revoked, sessions ended, logged outside the tenant
so a restore replays it), corrections and refusals, reminders before the due date, certificates;
bad input refused with the reason; another tenant sees nothing."""

import csv
import io
import json
import re
import zipfile
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.api.models import ApiKey
from apps.compliance import data_requests
from apps.compliance.models import DataRequest
from apps.events.models import Event
from apps.identity.models import ErasureRecord, Membership, User, UserSession, email_fingerprint
from apps.identity.services import organisation_provision
from apps.notifications.models import Notification
from apps.notifications.services import notify_for_events
from apps.tenancy.models import Tenant
from tests.compliance.test_personal_data import _person_with_data
from tests.conftest import PASSWORD, client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _membership(tenant, user) -> Membership:
    return Membership.objects.get(tenant=tenant, user=user)


def _built(tenant, request_id):
    """What the task does (tests/e2e/test_data_request_worker.py runs it in a real worker)."""
    with schema_context(tenant.schema_name):
        return data_requests.data_request_build(request_id=request_id, tenant=tenant)


def _notified(tenant, event_type):
    """The notifications the events of `event_type` make (what their dispatch does), by title."""
    with tenant_context(tenant):
        events = list(Event.objects.filter(type=event_type))
        notify_for_events(events)
        return list(Notification.objects.filter(event__in=events).order_by("title"))


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_member_asks_for_a_copy_and_downloads_a_zip_of_json_and_csv(tenant_a, owner_a):
    person = _person_with_data(tenant_a, owner_a)
    client = client_for(tenant_a, person)
    answer = client.post("/compliance/my-data/", {"kind": "access", "law": "gdpr", "details": ""})
    assert answer.status_code == 302
    with schema_context(tenant_a.schema_name):
        request = DataRequest.objects.get(subject=person)
    assert request.status == "open" and request.verification == "Signed in as themselves"
    assert request.due_at.date() == (request.opened_at + timedelta(days=30)).date()
    done = _built(tenant_a, request.pk)
    assert done.status == "done" and done.progress == 100 and done.rows >= 5
    assert _built(tenant_a, request.pk) is None  # a task delivered twice makes nothing twice

    page = client.get(f"/compliance/requests/{request.pk}/")
    assert page.status_code == 200
    link = re.search(r'href="(/compliance/requests/download/[^"]+)"', page.content.decode()).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    archive = _zip(download)
    names = archive.namelist()
    assert {"identity.json", "api.json", "flags.json", "README.txt"} <= set(names)
    identity = json.loads(archive.read("identity.json"))
    assert identity["account"]["email"] == person.email
    keys = list(csv.DictReader(io.StringIO(archive.read("csv/api/api.ApiKey.csv").decode().lstrip("\ufeff"))))
    assert [k["name"] for k in keys] == ["pd key"]
    assert owner_a.email not in archive.read("identity.json").decode()  # only the person's own rows
    assert "identity: " in archive.read("README.txt").decode()

    # Only the person and the organisation's admins get the file through the link.
    assert client_for(tenant_a, owner_a).get(link).status_code == 200
    other = MembershipFactory(tenant=tenant_a, role="member").user
    assert client_for(tenant_a, other).get(link).status_code == 404
    assert client_for(tenant_a, other).get(f"/compliance/requests/{request.pk}/").status_code == 404
    [told] = _notified(tenant_a, "compliance.data_request_completed")
    assert told.user_id == person.pk and "The copy of" in told.title and told.url == "/compliance/my-data/"


def test_an_admin_opens_a_request_for_a_member_who_confirms_it_by_e_mail(
    tenant_a, owner_a, tenant_b, django_capture_on_commit_callbacks
):
    person = MembershipFactory(tenant=tenant_a, role="member").user
    other_admin = MembershipFactory(tenant=tenant_a, role="admin").user
    admin = client_for(tenant_a, owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(
            "/compliance/requests/", {"email": person.email.upper(), "kind": "erasure", "law": "ccpa", "details": ""}
        )
    assert answer.status_code == 302
    with schema_context(tenant_a.schema_name):
        request = DataRequest.objects.get(subject=person)
    assert request.status == "unverified" and request.due_at.date() == (request.opened_at + timedelta(days=45)).date()
    [message] = [m for m in mail.outbox if person.email in m.to]
    link = re.search(r"https?://\S+/compliance/requests/confirm/\S+/", message.body).group(0)
    path = link.split(".localhost", 1)[-1].split("/", 1)[-1]
    anonymous = client_for(tenant_a)
    page = anonymous.get(f"/{path}")
    assert page.status_code == 200 and b"Yes, I asked for it" in page.content
    with schema_context(tenant_a.schema_name):
        assert DataRequest.objects.get(pk=request.pk).status == "unverified"  # a GET confirms nothing
    assert anonymous.post(f"/{path}").status_code == 200
    with schema_context(tenant_a.schema_name):
        confirmed = DataRequest.objects.get(pk=request.pk)
    assert confirmed.status == "open" and "link e-mailed" in confirmed.verification
    assert client_for(tenant_b).get(f"/{path}").status_code == 404  # another tenant's link
    [told] = _notified(tenant_a, "compliance.data_request_opened")  # the admins, never the one who acted
    assert (
        told.user_id == other_admin.pk
        and told.title == f"{owner_a.get_full_name()} opened an erasure request for {person.get_full_name()}"
    )
    assert anonymous.get("/compliance/requests/confirm/not-a-token/").status_code == 404


def test_bad_requests_are_refused_with_the_reason(tenant_a, owner_a):
    admin = client_for(tenant_a, owner_a)
    unknown = admin.post("/compliance/requests/", {"email": "nobody@nowhere.example", "kind": "access", "law": "gdpr"})
    assert unknown.status_code == 400 and b"has the address nobody@nowhere.example" in unknown.content
    last_owner = admin.post("/compliance/my-data/", {"kind": "erasure", "law": "gdpr"})
    assert last_owner.status_code == 400 and b"the organisation&#x27;s only owner" in last_owner.content
    vague = admin.post("/compliance/my-data/", {"kind": "rectification", "law": "gdpr", "details": " "})
    assert vague.status_code == 400 and b"Say what is wrong" in vague.content
    member = MembershipFactory(tenant=tenant_a, role="member").user
    first = client_for(tenant_a, member).post("/compliance/my-data/", {"kind": "erasure", "law": "gdpr"})
    assert first.status_code == 302
    again = client_for(tenant_a, member).post("/compliance/my-data/", {"kind": "erasure", "law": "gdpr"})
    assert again.status_code == 400 and b"You have an open erasure request already" in again.content
    # A member asks about themselves only; the admins' page is not theirs.
    assert client_for(tenant_a, member).post("/compliance/requests/", {"email": owner_a.email}).status_code == 403
    with schema_context(tenant_a.schema_name):
        assert DataRequest.objects.count() == 1


def test_an_erasure_runs_across_apps_revokes_keys_ends_sessions_and_is_logged(tenant_a, owner_a):
    person = _person_with_data(tenant_a, owner_a)
    address = person.email
    with schema_context(tenant_a.schema_name):
        request = data_requests.data_request_open(
            tenant=tenant_a, actor=_membership(tenant_a, owner_a), kind="erasure", email=address,
            verified_how="Called them on the number we hold",
        )  # fmt: skip
        assert request.status == "open" and "Called them" in request.verification
    admin = client_for(tenant_a, owner_a)
    page = admin.get(f"/compliance/requests/{request.pk}/")
    assert b"Erase their data" in page.content and b"data-confirm=" in page.content
    assert admin.post(f"/compliance/requests/{request.pk}/erase/").status_code == 302
    with schema_context(tenant_a.schema_name):
        done = DataRequest.objects.get(pk=request.pk)
        assert done.status == "done" and done.subject_name == f"Erased person #{person.pk}"
        assert done.outcome["api keys revoked"] == 1 and done.outcome["identity"] >= 2
        assert not ApiKey.objects.filter(created_by_email=address).exists()  # the key's maker is anonymised
        assert ApiKey.objects.filter(name="pd key").get().revoked_at is not None
    person.refresh_from_db()
    assert not person.is_active and person.email == f"erased-{person.pk}@erased.invalid"
    assert not UserSession.objects.filter(user=person).exists()
    [record] = ErasureRecord.objects.filter(tenant_slug=tenant_a.slug, user_id=person.pk)
    assert record.fingerprint == email_fingerprint(address) and address not in str(vars(record))
    certificate = admin.get(f"/compliance/requests/{request.pk}/certificate.pdf")
    assert certificate.status_code == 200 and certificate.content.startswith(b"%PDF")
    again = admin.post(f"/compliance/requests/{request.pk}/erase/", follow=True)
    assert b"Only an open erasure request" in again.content


def test_the_organisation_s_only_owner_is_not_erased_even_if_asked_before(tenant_a, owner_a):
    other_owner = MembershipFactory(tenant=tenant_a, role="owner").user
    with schema_context(tenant_a.schema_name):
        request = data_requests.data_request_open(
            tenant=tenant_a, actor=_membership(tenant_a, owner_a), kind="erasure", email=other_owner.email,
            verified_how="In person",
        )  # fmt: skip
        _membership(tenant_a, owner_a).delete()  # the other owner is now the only one
    answer = client_for(tenant_a, other_owner).post(f"/compliance/requests/{request.pk}/erase/", follow=True)
    assert b"the organisation&#x27;s only owner" in answer.content
    assert User.objects.get(pk=other_owner.pk).is_active


def test_corrections_are_completed_and_refusals_say_why(tenant_a, owner_a):
    person = MembershipFactory(tenant=tenant_a, role="member").user
    mine = client_for(tenant_a, person)
    mine.post("/compliance/my-data/", {"kind": "rectification", "law": "gdpr", "details": "My name is Ann, not Anne"})
    mine.post("/compliance/my-data/", {"kind": "access", "law": "gdpr"})
    with schema_context(tenant_a.schema_name):
        fix = DataRequest.objects.get(kind="rectification")
        copy = DataRequest.objects.get(kind="access")
    admin = client_for(tenant_a, owner_a)
    empty = admin.post(f"/compliance/requests/{fix.pk}/complete/", {"note": ""})
    assert empty.status_code == 400
    assert admin.post(f"/compliance/requests/{fix.pk}/complete/", {"note": "Name corrected"}).status_code == 302
    assert admin.post(f"/compliance/requests/{copy.pk}/refuse/", {"reason": "Manifestly unfounded"}).status_code == 302
    with schema_context(tenant_a.schema_name):
        assert DataRequest.objects.get(pk=fix.pk).resolution == "Name corrected"
        assert DataRequest.objects.get(pk=copy.pk).status == "refused"
        assert data_requests.data_request_build(request_id=copy.pk, tenant=tenant_a) is None  # refused: no copy
    [told] = _notified(tenant_a, "compliance.data_request_refused")
    assert told.user_id == person.pk and "refused" in told.title
    page = mine.get(f"/compliance/requests/{copy.pk}/")
    assert b"Manifestly unfounded" in page.content and b"Certificate of completion" in page.content
    listing = mine.get("/compliance/my-data/")
    assert listing.status_code == 200 and f'data-request="{fix.pk}"'.encode() in listing.content


def test_admins_are_reminded_once_a_day_before_the_due_date(tenant_a, owner_a):
    person = MembershipFactory(tenant=tenant_a, role="member").user
    with schema_context(tenant_a.schema_name):
        request = data_requests.data_request_open(tenant=tenant_a, actor=_membership(tenant_a, person), kind="erasure")
        today = timezone.localdate()
        assert data_requests.data_requests_remind(tenant=tenant_a, today=today) == 0  # due in 30 days
        DataRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() + timedelta(days=3))
        assert data_requests.data_requests_remind(tenant=tenant_a, today=today) == 1
        assert data_requests.data_requests_remind(tenant=tenant_a, today=today) == 0  # once a day
        assert data_requests.data_requests_remind(tenant=tenant_a, today=today + timedelta(days=5)) == 1
    told = _notified(tenant_a, "compliance.data_request_due")
    assert {n.user_id for n in told} == {owner_a.pk}
    name = person.get_full_name()
    assert [n.title for n in told] == [
        f"An erasure request of {name} is due in 3 days",
        f"An erasure request of {name} is overdue by 2 days",
    ]


def test_another_tenant_sees_nothing(tenant_a, owner_a, tenant_b, owner_b):
    with schema_context(tenant_a.schema_name):
        request = data_requests.data_request_open(tenant=tenant_a, actor=_membership(tenant_a, owner_a), kind="access")
    done = _built(tenant_a, request.pk)
    with schema_context(tenant_a.schema_name):
        link = data_requests.download_url(done)
    b = client_for(tenant_b, owner_b)
    assert b.get(f"/compliance/requests/{request.pk}/").status_code == 404
    assert b.get(link).status_code == 404
    assert b.get(f"/compliance/requests/{request.pk}/certificate.pdf").status_code == 404
    assert b"data-request=" not in b.get("/compliance/requests/").content
    # An admin of B cannot open a request about A's owner (not a member of B).
    answer = b.post("/compliance/requests/", {"email": owner_a.email, "kind": "access", "law": "gdpr"})
    assert answer.status_code == 400


def test_restoring_an_older_backup_replays_the_erasure(tmp_path):
    tenant, owner = organisation_provision(
        name="Replay Co", slug="replay-co", owner_email="owner@replay.example.com", owner_password=PASSWORD
    )
    person = User.objects.create_user(email="gone@replay.example.com", password=PASSWORD, full_name="Gone Person")
    Membership.objects.create(tenant=tenant, user=person, role="member")
    path = tmp_path / "replay.tar.gz"
    call_command("backup_tenant", tenant.slug, "--output", str(path), stdout=StringIO())
    with schema_context(tenant.schema_name):
        request = data_requests.data_request_open(
            tenant=tenant, actor=_membership(tenant, owner), kind="erasure", email=person.email, verified_how="Post"
        )
        data_requests.data_request_erase(tenant=tenant, actor=_membership(tenant, owner), request=request)
    out = StringIO()
    call_command("restore_tenant", str(path), "--replace", stdout=out)
    assert "1 erasure of people made since the backup replayed" in out.getvalue()
    restored = Tenant.objects.get(slug="replay-co")
    assert not Membership.objects.filter(tenant=restored, user__email__iexact="gone@replay.example.com").exists()
    assert not User.objects.filter(email__iexact="gone@replay.example.com", is_active=True).exists()
    assert Membership.objects.filter(tenant=restored, user=owner).exists()


def test_an_erasure_logged_before_the_secret_key_was_rotated_still_replays(tenant_a, owner_a, settings):
    person = MembershipFactory(tenant=tenant_a, role="member").user
    ErasureRecord.objects.create(tenant_slug=tenant_a.slug, fingerprint=email_fingerprint(person.email), user_id=1)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert email_fingerprint(person.email) != ErasureRecord.objects.get(user_id=1).fingerprint
    with schema_context(tenant_a.schema_name):
        assert data_requests.erasures_replay(tenant=tenant_a, slugs={"other-co"}, users=[person]) == 0
        assert data_requests.erasures_replay(tenant=tenant_a, slugs={tenant_a.slug}, users=[person]) == 1
    assert not Membership.objects.filter(tenant=tenant_a, user=person).exists()


def test_an_admin_cannot_erase_an_owner_and_copies_go_with_the_person(
    tenant_a, owner_a, django_capture_on_commit_callbacks
):
    admin = MembershipFactory(tenant=tenant_a, role="admin")
    other_owner = MembershipFactory(tenant=tenant_a, role="owner").user
    answer = client_for(tenant_a, admin.user).post(
        "/compliance/requests/", {"email": other_owner.email, "kind": "erasure", "law": "gdpr", "verified_how": "x"}
    )
    assert answer.status_code == 400 and b"Only an owner can ask for an owner" in answer.content
    person = MembershipFactory(tenant=tenant_a, role="member").user
    with schema_context(tenant_a.schema_name):
        mine = data_requests.data_request_open(tenant=tenant_a, actor=_membership(tenant_a, person), kind="access")
    copy = _built(tenant_a, mine.pk)
    assert default_storage.exists(copy.file)
    with schema_context(tenant_a.schema_name):
        erasure = data_requests.data_request_open(
            tenant=tenant_a, actor=_membership(tenant_a, owner_a), kind="erasure", email=person.email, verified_how="x"
        )
    with django_capture_on_commit_callbacks(execute=True):
        client_for(tenant_a, owner_a).post(f"/compliance/requests/{erasure.pk}/erase/")
    with schema_context(tenant_a.schema_name):
        assert DataRequest.objects.get(pk=mine.pk).file == ""
    assert not default_storage.exists(copy.file)  # the erased person's copy is gone


def test_copies_are_deleted_a_week_after_they_are_made(tenant_a, owner_a, django_capture_on_commit_callbacks):
    with schema_context(tenant_a.schema_name):
        mine = data_requests.data_request_open(tenant=tenant_a, actor=_membership(tenant_a, owner_a), kind="access")
    copy = _built(tenant_a, mine.pk)
    with schema_context(tenant_a.schema_name), django_capture_on_commit_callbacks(execute=True):
        assert data_requests.copies_prune() == 0
        assert data_requests.copies_prune(now=timezone.now() + timedelta(days=8)) == 1
    assert not default_storage.exists(copy.file)
    page = client_for(tenant_a, owner_a).get(f"/compliance/requests/{mine.pk}/")
    assert b"The copy was deleted a week after it was made" in page.content


def test_a_restore_replays_only_the_erasures_made_after_its_backup(tenant_a):
    person = MembershipFactory(tenant=tenant_a, role="member").user
    ErasureRecord.objects.create(
        tenant_slug=tenant_a.slug,
        fingerprint=email_fingerprint(person.email),
        user_id=person.pk,
        erased_at=timezone.now() - timedelta(days=30),
    )  # fmt: skip  (erased a month ago, then invited back: the backup of last week has them again)
    with schema_context(tenant_a.schema_name):
        since = timezone.now() - timedelta(days=7)
        assert data_requests.erasures_replay(tenant=tenant_a, slugs={tenant_a.slug}, users=[person], since=since) == 0
    assert Membership.objects.filter(tenant=tenant_a, user=person).exists()


def test_one_unanswered_request_per_person_and_kind_even_at_once(tenant_a, owner_a):
    """The database keeps the rule too: a failed copy made again while a newer one is open is refused."""
    with schema_context(tenant_a.schema_name):
        first = data_requests.data_request_open(tenant=tenant_a, actor=_membership(tenant_a, owner_a), kind="access")
        DataRequest.objects.filter(pk=first.pk).update(status="failed")
        data_requests.data_request_open(tenant=tenant_a, actor=_membership(tenant_a, owner_a), kind="access")
        first.refresh_from_db()
        with pytest.raises(ValidationError, match="A newer request of this kind is open"):
            data_requests.data_request_retry(actor=_membership(tenant_a, owner_a), request=first)
        with pytest.raises(ValidationError, match="open request of this kind already"):
            data_requests._created(
                kind="access", law="gdpr", subject=owner_a, subject_name="x", due_at=timezone.now(), status="open"
            )
