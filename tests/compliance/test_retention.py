"""Retention policies: records older than a policy's age deleted, anonymised or archived to
storage (then deleted), in batches; a dry run that changes nothing; legal holds that keep records
whatever the policy; the log, the events in words, the beat task; bad input refused with the
reason; the page for admins only, and nothing of another tenant's."""

import gzip
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.compliance import retention, tasks
from apps.compliance.models import LegalHold, RetentionPolicy, RetentionRun
from apps.events.models import Event
from apps.notifications.models import Notification
from apps.workflow import services as workflow_services
from apps.workflow.models import WorkflowRun
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.workflow.conftest import drain, graph_of, make_workflow

pytestmark = pytest.mark.django_db


def notifications(tenant, user, *, old: int, new: int) -> list[int]:
    """`old` notifications 100 days old and `new` ones from today: the old ones' ids."""
    with schema_context(tenant.schema_name):
        made = [
            Notification.objects.create(user=user, event_type="test.thing", title=f"N {i}") for i in range(old + new)
        ]
        ids = [n.pk for n in made[:old]]
        Notification.objects.filter(pk__in=ids).update(created=timezone.now() - timedelta(days=100))
    return ids


def policy(tenant, owner, record_type="notifications.notification", age_days=90, action="delete"):
    with schema_context(tenant.schema_name):
        return retention.policy_save(
            tenant=tenant, actor=owner, record_type=record_type, age_days=age_days, action=action
        )


def test_a_policy_deletes_what_is_older_keeps_the_rest_and_what_is_held(tenant_a, owner_a):
    old = notifications(tenant_a, owner_a, old=5, new=3)
    chosen = policy(tenant_a, owner_a)
    with schema_context(tenant_a.schema_name):
        retention.hold_place(tenant=tenant_a, actor=owner_a, record_type=chosen.record_type, object_id=str(old[0]),
                             reason="Dispute with Acme")  # fmt: skip
        preview = retention.policy_apply(tenant=tenant_a, policy=chosen, dry_run=True, actor=owner_a)
        assert (preview.matched, preview.held, preview.acted) == (5, 1, 0)
        assert Notification.objects.filter(user=owner_a).count() == 8  # a preview changes nothing
        run = retention.policy_apply(tenant=tenant_a, policy=chosen, actor=owner_a)
        assert (run.matched, run.held, run.acted, run.error) == (5, 1, 4, "")
        left = set(Notification.objects.filter(user=owner_a).values_list("pk", flat=True))
        assert old[0] in left and not set(old[1:]) & left and len(left) == 4
        applied = Event.objects.filter(type="compliance.retention_applied").latest("pk")
        assert applied.payload["acted"] == 4 and applied.payload["held"] == 1
        again = retention.policy_apply(tenant=tenant_a, policy=chosen)
        assert (again.matched, again.held, again.acted) == (1, 1, 0)
        hold = LegalHold.objects.get()
        retention.hold_release(tenant=tenant_a, actor=owner_a, hold=hold)
        assert retention.policy_apply(tenant=tenant_a, policy=chosen).acted == 1  # released: it goes too
        assert list(RetentionRun.objects.values_list("dry_run", flat=True)) == [False, False, False, True]


def test_archiving_writes_the_rows_to_storage_before_deleting_them(tenant_a, owner_a, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}  # fmt: skip
    notifications(tenant_a, owner_a, old=3, new=1)
    chosen = policy(tenant_a, owner_a, action="archive")
    with schema_context(tenant_a.schema_name):
        run = retention.policy_apply(tenant=tenant_a, policy=chosen)
        assert run.acted == 3 and run.archive.startswith(
            f"retention/{tenant_a.schema_name}/notifications.notification/"
        )
        [part] = default_storage.listdir(run.archive)[1]
        rows = [
            json.loads(line)
            for line in gzip.decompress(default_storage.open(f"{run.archive}/{part}").read()).splitlines()
        ]
        assert sorted(r["title"] for r in rows) == ["N 0", "N 1", "N 2"] and all(
            r["user_id"] == owner_a.pk for r in rows
        )
        assert Notification.objects.filter(user=owner_a).count() == 1


def test_anonymising_takes_people_off_finished_runs_once(tenant_a, owner_a):
    with tenant_context(tenant_a):
        workflow = make_workflow(tenant_a, graph_of(("a", "set", {"values": {"x": 1}})))
        done = [
            drain(workflow_services.run_manual(tenant=tenant_a, workflow=workflow, actor=owner_a)) for _ in range(3)
        ]
        WorkflowRun.objects.filter(pk__in=[r.pk for r in done[:2]]).update(
            finished_at=timezone.now() - timedelta(days=40)
        )
    chosen = policy(tenant_a, owner_a, record_type="workflow.run", age_days=30, action="anonymise")
    with schema_context(tenant_a.schema_name):
        run = retention.policy_apply(tenant=tenant_a, policy=chosen)
        assert (run.matched, run.acted) == (2, 2)
        by = dict(WorkflowRun.objects.values_list("pk", "started_by_id"))
        assert by[done[0].pk] is None and by[done[1].pk] is None and by[done[2].pk] == owner_a.pk
        assert WorkflowRun.objects.count() == 3  # anonymised, not deleted
        assert retention.policy_apply(tenant=tenant_a, policy=chosen).acted == 0  # not counted again


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"record_type": "nope"}, "record_type", "Choose a kind of record"),
        ({"action": "anonymise"}, "action", "Notifications can be: delete, archive to storage, then delete."),
        ({"age_days": 0}, "age_days", "between 1 and 36,500 days"),
    ],
)
def test_bad_policies_are_refused_with_the_reason(tenant_a, owner_a, fields, field, words):
    body = {"record_type": "notifications.notification", "age_days": 90, "action": "delete", **fields}
    with schema_context(tenant_a.schema_name), pytest.raises(ValidationError) as refused:
        retention.policy_save(tenant=tenant_a, actor=owner_a, **body)
    assert words in refused.value.message_dict[field][0]


def test_bad_holds_are_refused_with_the_reason(tenant_a, owner_a):
    [kept] = notifications(tenant_a, owner_a, old=1, new=0)
    with schema_context(tenant_a.schema_name):
        for body, field, words in [
            ({"object_id": "999999"}, "object_id", "There is no record with the id “999999” among notifications."),
            ({"object_id": "not-a-number"}, "object_id", "There is no record with the id"),
            ({"reason": " "}, "reason", "Say why the record is held"),
        ]:
            with pytest.raises(ValidationError) as refused:
                retention.hold_place(tenant=tenant_a, actor=owner_a, **{"record_type": "notifications.notification",
                                     "object_id": str(kept), "reason": "Inquiry", **body})  # fmt: skip
            assert words in refused.value.message_dict[field][0]
        retention.hold_place(tenant=tenant_a, record_type="notifications.notification", object_id=str(kept), reason="x")
        with pytest.raises(ValidationError, match="under a legal hold already"):
            retention.hold_place(
                tenant=tenant_a, record_type="notifications.notification", object_id=str(kept), reason="y"
            )


def test_the_beat_task_applies_every_enabled_policy(tenant_a, owner_a):
    notifications(tenant_a, owner_a, old=2, new=0)
    policy(tenant_a, owner_a)
    with tenant_context(tenant_a):
        assert tasks.retention_apply() == 2
        RetentionPolicy.objects.update(enabled=False)
        notifications(tenant_a, owner_a, old=2, new=0)
        assert tasks.retention_apply() == 0


def test_admins_set_preview_apply_and_remove_policies_and_holds_on_the_page(tenant_a, owner_a):
    old = notifications(tenant_a, owner_a, old=3, new=1)
    client = client_for(tenant_a, owner_a)
    assert "Set a policy" in client.get("/compliance/retention/").content.decode()
    bad = client.post("/compliance/retention/", {"record_type": "notifications.notification", "age_days": "90",
                                                 "action": "anonymise", "enabled": "on"})  # fmt: skip
    assert bad.status_code == 400 and "Notifications can be: delete, archive" in bad.content.decode()
    saved = client.post("/compliance/retention/", {"record_type": "notifications.notification", "age_days": "90",
                                                   "action": "delete", "enabled": "on"}, follow=True)  # fmt: skip
    page = saved.content.decode()
    assert "Retention of notifications saved." in page and "90 days" in page and "Applied every hour" in page
    hold = {"record_type": "notifications.notification", "object_id": str(old[0]), "reason": "Inquiry"}
    held = client.post("/compliance/retention/holds/", hold, follow=True)
    assert f"record {old[0]} is under a legal hold" in held.content.decode()
    with schema_context(tenant_a.schema_name):
        pk = RetentionPolicy.objects.get().pk
    preview = client.post(f"/compliance/retention/{pk}/apply/", {"preview": "1"}, follow=True).content.decode()
    assert "Preview: 3 notifications are older than 90 days; 2 would be deleted and 1 kept under legal hold." in preview
    applied = client.post(f"/compliance/retention/{pk}/apply/", follow=True).content.decode()
    assert "Retention applied: 2 notifications acted on, 1 kept under legal hold." in applied
    assert "data-run" in applied and "Deleted after 90 days" in applied
    with schema_context(tenant_a.schema_name):
        hold = LegalHold.objects.get()
    released = client.post(f"/compliance/retention/holds/{hold.pk}/release/", follow=True).content.decode()
    assert f"Legal hold on record {old[0]} released." in released
    removed = client.post(f"/compliance/retention/{pk}/delete/", follow=True).content.decode()
    assert "Retention policy removed" in removed
    with schema_context(tenant_a.schema_name):
        assert not RetentionPolicy.objects.exists()


def test_members_and_other_tenants_cannot_see_or_touch_a_policy(tenant_a, tenant_b, owner_a, owner_b):
    chosen = policy(tenant_a, owner_a)
    member = MembershipFactory(tenant=tenant_a, role="member")
    assert client_for(tenant_a, member.user).get("/compliance/retention/").status_code == 403
    assert client_for(tenant_a, member.user).post(f"/compliance/retention/{chosen.pk}/apply/").status_code == 403
    other = client_for(tenant_b, owner_b)
    assert "90 days" not in other.get("/compliance/retention/").content.decode()
    assert other.post(f"/compliance/retention/{chosen.pk}/apply/").status_code == 404
    assert other.post(f"/compliance/retention/{chosen.pk}/delete/").status_code == 404
    with schema_context(tenant_a.schema_name):
        assert RetentionPolicy.objects.filter(pk=chosen.pk).exists() and not RetentionRun.objects.exists()


def test_an_archive_that_cannot_be_written_deletes_nothing_and_says_why(tenant_a, owner_a, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the storage's folder should be")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(blocked)}}}  # fmt: skip
    notifications(tenant_a, owner_a, old=2, new=0)
    chosen = policy(tenant_a, owner_a, action="archive")
    with schema_context(tenant_a.schema_name):
        run = retention.policy_apply(tenant=tenant_a, policy=chosen)
        assert run.acted == 0 and run.archive == "" and run.error
        assert Notification.objects.filter(user=owner_a).count() == 2
        assert not Event.objects.filter(type="compliance.retention_applied").exists()
