"""Users read words, never codes: every event type turns an event into a sentence naming who did
what, with a link to the object; notifications, the activity feed and the pages use them."""

import re
from types import SimpleNamespace

import pytest
from django.utils import timezone
from django.utils.html import strip_tags
from django_tenants.utils import tenant_context

from apps.api.services import api_key_create
from apps.core.registry import EventType, registry
from apps.identity.models import Membership
from apps.identity.services import membership_change_role
from apps.notifications.models import Notification
from tests.conftest import client_for
from tests.events.fixtures import add_member
from tests.factories import UserFactory

# One example per event type: its payload, and the words its sentence must contain (the actor,
# "Jane Doe", and the object). A new event type without an example here fails
# test_every_event_type_has_an_example: add one.
# Event types whose objects have no page (a deleted insight, dashboard or document is gone): the
# activity feed shows their sentence without a link.
NO_PAGE_YET = {
    "analytics.insight_deleted",
    "analytics.dashboard_deleted",
    "content.document_purged",
    "content.folder_purged",
}

FOLDER = {"folder_id": 4, "name": "Invoices", "parent_id": None}
DOCUMENT = {"document_id": 9, "name": "Q3 report.pdf", "folder_id": 4, "version": 2, "size": 1024}
LINK = {"link_id": 2, "document_id": 9, "name": "Q3 report.pdf", "version": None, "expires_at": "2026-12-01T00:00:00Z"}
SHARE = {"folder_id": 4, "name": "Invoices", "user_id": 7, "email": "bob@example.com", "role": "editor"}
COMMENT = {
    "comment_id": 5,
    "thread_id": 5,
    "document_id": 9,
    "folder_id": None,
    "name": "Q3 report.pdf",
    "excerpt": "Hi",
}

EXPERIMENT = {
    "experiment_id": 3, "name": "Checkout copy", "flag_key": "new-checkout", "status": "running", "variant": "test",
}  # fmt: skip
CONNECTION = {"connection_id": 5, "name": "Team Slack", "connector": "slack", "auth_type": "bearer"}
SPEC = {"spec_id": 2, "key": "billing", "title": "Billing API", "operations": 12}
PLUGIN = {"label": "pulse", "name": "Pulse", "version": "1.0"}
RUN = {"run_id": 8, "workflow_id": 4, "workflow": "Welcome new members", "version": 2, "trigger": "event"}

INCIDENT = {
    "incident_id": 3, "rule": "brute_force", "rule_label": "Brute force from one address", "severity": "high",
    "summary": "Failed log-ins for 5 different accounts from 192.0.2.66 within 10 minutes", "user_id": None,
    "ip_address": "192.0.2.66", "api_key_id": None,
}  # fmt: skip
EXAMPLES = {
    "member.joined": (
        {"membership_id": 1, "user_id": "BOB", "email": "bob@example.com", "role": "member"},
        ["Bob Brown", "member"],
    ),
    "member.role_changed": (
        {"membership_id": 1, "user_id": "BOB", "email": "bob@example.com", "old_role": "member", "new_role": "admin"},
        ["Jane Doe", "Bob Brown", "Admin"],
    ),
    "member.removed": (
        {"membership_id": 1, "user_id": "BOB", "email": "bob@example.com", "role": "member", "left": False},
        ["Jane Doe", "removed", "Bob Brown"],
    ),
    "invitation.sent": (
        {"invitation_id": 1, "email": "carol@example.com", "role": "viewer"},
        ["Jane Doe", "invited", "carol@example.com", "viewer"],
    ),
    "invitation.accepted": (
        {"invitation_id": 1, "email": "bob@example.com", "role": "member", "user_id": "BOB", "invited_by_id": "JANE"},
        ["Bob Brown accepted Jane Doe's invitation"],
    ),
    "organisation.settings_changed": (
        {"changes": {"name": {"old": "Acme", "new": "Acme Ltd"}}},
        ["Jane Doe", "renamed", "Acme Ltd"],
    ),
    "webhook.endpoint_disabled": (
        {"endpoint_id": 7, "url": "https://hooks.example.com/in", "reason": "Every delivery failed."},
        ["webhook endpoint", "https://hooks.example.com/in"],
    ),
    "analytics.project_key_created": (
        {"key_id": 3, "name": "Marketing site", "prefix": "phc_1234abcd"},
        ["Jane Doe created the project key “Marketing site”"],
    ),
    "analytics.project_key_revoked": (
        {"key_id": 3, "name": "Marketing site", "prefix": "phc_1234abcd"},
        ["Jane Doe revoked the project key “Marketing site”"],
    ),
    "analytics.page_views_switched": (
        {"enabled": False},
        ["Jane Doe switched the dashboards' own page views off"],
    ),
    "analytics.insight_created": (
        {"insight_id": 5, "name": "Weekly sign-ups", "kind": "trends"},
        ["Jane Doe saved the insight “Weekly sign-ups”"],
    ),
    "analytics.insight_updated": (
        {"insight_id": 5, "name": "Weekly sign-ups", "kind": "trends"},
        ["Jane Doe changed the insight “Weekly sign-ups”"],
    ),
    "analytics.report_ready": (
        {"job_id": 3, "title": "Weekly KPIs", "format": "PDF"},
        ["Jane Doe", "“Weekly KPIs”", "PDF", "ready"],
    ),
    "analytics.export_ready": (
        {"job_id": 4, "title": "Events 2026-11-01 to 2026-11-30", "format": "Parquet"},
        ["Jane Doe", "Events 2026-11-01 to 2026-11-30", "Parquet", "ready"],
    ),
    "analytics.bi_access_granted": (
        {"role": "bi_0123456789_t_alpha"},
        ["Jane Doe", "read-only login", "bi_0123456789_t_alpha"],
    ),
    "analytics.bi_access_revoked": (
        {"role": "bi_0123456789_t_alpha"},
        ["Jane Doe", "removed", "bi_0123456789_t_alpha"],
    ),
    "analytics.insight_deleted": (
        {"insight_id": 5, "name": "Weekly sign-ups", "kind": "trends"},
        ["Jane Doe deleted the insight “Weekly sign-ups”"],
    ),
    "analytics.cohort_created": (
        {"cohort_id": 4, "name": "Beta testers", "kind": "static"},
        ["Jane Doe created the cohort “Beta testers”"],
    ),
    "analytics.cohort_updated": (
        {"cohort_id": 4, "name": "Beta testers", "kind": "static"},
        ["Jane Doe changed the cohort “Beta testers”"],
    ),
    "analytics.cohort_deleted": (
        {"cohort_id": 4, "name": "Beta testers", "kind": "rules"},
        ["Jane Doe deleted the cohort “Beta testers”"],
    ),
    "flags.flag_created": (
        {"flag_id": 3, "key": "new-checkout", "version": 1, "note": "created"},
        ["Jane Doe created the feature flag “new-checkout”"],
    ),
    "flags.flag_changed": (
        {"flag_id": 3, "key": "new-checkout", "version": 2, "note": "switched off"},
        ["Jane Doe changed the feature flag “new-checkout” (switched off)"],
    ),
    "flags.flag_deleted": (
        {"flag_id": 3, "key": "new-checkout", "version": 2, "note": "deleted"},
        ["Jane Doe deleted the feature flag “new-checkout”"],
    ),
    "content.folder_created": (FOLDER, ["Jane Doe created the folder “Invoices”"]),
    "content.folder_changed": (FOLDER, ["Jane Doe renamed or moved the folder “Invoices”"]),
    "content.folder_trashed": (FOLDER, ["Jane Doe moved the folder “Invoices” to the trash"]),
    "content.folder_restored": (FOLDER, ["Jane Doe restored the folder “Invoices”"]),
    "content.folder_purged": (FOLDER, ["Jane Doe deleted the folder “Invoices”"]),
    "content.document_uploaded": (DOCUMENT, ["Jane Doe uploaded the document “Q3 report.pdf”"]),
    "content.document_versioned": (DOCUMENT, ["Jane Doe saved version 2 of “Q3 report.pdf”"]),
    "content.document_changed": (DOCUMENT, ["Jane Doe changed the document “Q3 report.pdf”"]),
    "content.document_trashed": (DOCUMENT, ["Jane Doe moved the document “Q3 report.pdf” to the trash"]),
    "content.document_restored": (DOCUMENT, ["Jane Doe restored the document “Q3 report.pdf”"]),
    "content.document_purged": (DOCUMENT, ["Jane Doe deleted the document “Q3 report.pdf”"]),
    "analytics.dashboard_created": (
        {"dashboard_id": 4, "name": "Growth"},
        ["Jane Doe created the dashboard “Growth”"],
    ),
    "analytics.dashboard_updated": (
        {"dashboard_id": 4, "name": "Growth"},
        ["Jane Doe changed the dashboard “Growth”"],
    ),
    "analytics.dashboard_deleted": (
        {"dashboard_id": 4, "name": "Growth"},
        ["Jane Doe deleted the dashboard “Growth”"],
    ),
    "analytics.dashboard_shared": (
        {"dashboard_id": 4, "name": "Growth"},
        ["Jane Doe turned on a read-only link to the dashboard “Growth”"],
    ),
    "analytics.dashboard_share_revoked": (
        {"dashboard_id": 4, "name": "Growth"},
        ["Jane Doe revoked the read-only link to the dashboard “Growth”"],
    ),
    "content.settings_changed": (
        {"keep_image_location": False},
        ["Jane Doe changed the files settings: uploaded pictures no longer keep their location"],
    ),
    "content.link_created": (LINK, ["Jane Doe made a download link of “Q3 report.pdf”"]),
    "content.link_revoked": (LINK, ["Jane Doe turned off a download link of “Q3 report.pdf”"]),
    "content.link_used": (
        {**LINK, "downloads": 3},
        ["Someone downloaded “Q3 report.pdf” through a shared link (3 downloads so far)"],
    ),
    "content.folder_shared": (SHARE, ["Jane Doe shared the folder “Invoices” with bob@example.com as an editor"]),
    "content.folder_unshared": (SHARE, ["Jane Doe stopped sharing the folder “Invoices” with bob@example.com"]),
    "content.comment_added": (COMMENT, ["Jane Doe commented on “Q3 report.pdf”"]),
    "content.comment_edited": (COMMENT, ["Jane Doe edited a comment on “Q3 report.pdf”"]),
    "content.thread_resolved": (COMMENT, ["Jane Doe resolved a conversation on “Q3 report.pdf”"]),
    "content.thread_reopened": (COMMENT, ["Jane Doe reopened a conversation on “Q3 report.pdf”"]),
    "content.member_mentioned": (
        {**COMMENT, "user_ids": [2]},
        ["Jane Doe mentioned 1 member in a comment on “Q3 report.pdf”"],
    ),
    "content.document_processed": (
        {"document_id": 9, "name": "Q3 report.pdf", "version": 2, "user_id": "JANE"},
        ["Version 2 of “Q3 report.pdf” was processed"],
    ),
    "content.processing_failed": (
        {"document_id": 9, "name": "scan.pdf", "version": 1, "user_id": "JANE", "reason": "It is damaged."},
        ["Version 1 of “scan.pdf” could not be processed: It is damaged."],
    ),
    "content.processing_retried": (
        {"document_id": 9, "name": "scan.pdf", "version": 1, "user_id": "JANE"},
        ["Jane Doe asked for version 1 of “scan.pdf” to be processed again"],
    ),
    "api_key.created": (
        {"key_id": 3, "name": "CI deploy", "prefix": "hub_1234abcd", "scopes": ["api:read"]},
        ["Jane Doe created the API key “CI deploy”"],
    ),
    "api_key.revoked": (
        {"key_id": 3, "name": "CI deploy", "prefix": "hub_1234abcd"},
        ["Jane Doe revoked the API key “CI deploy”"],
    ),
    "billing.plan_changed": (
        {
            "from_plan": "free",
            "from_plan_name": "Free",
            "to_plan": "team",
            "to_plan_name": "Team",
            "monthly": "49.00",
            "per_seat": "8.00",
            "currency": "EUR",
        },
        ["Jane Doe moved the organisation from the Free plan to the Team plan"],
    ),  # fmt: skip
    "billing.limit_reached": (
        {"quantity": "seats", "label": "members", "used": 10, "limit": 10, "plan": "Team"},
        ["The organisation reached the Team plan's limit of members"],
    ),
    "compliance.audit_checked": (
        {"ok": True, "entries": 120, "broken_entry": None},
        ["checked the audit trail: 120 entries, unbroken"],
    ),
    "compliance.siem_changed": ({"transport": "syslog_tcp"}, ["Jane Doe changed where the audit trail is forwarded"]),
    "compliance.retention_changed": (
        {
            "policy_id": 1,
            "record_type": "notifications.notification",
            "label": "Notifications",
            "age_days": 90,
            "action": "delete",
        },
        ["Jane Doe set notifications to be deleted after 90 days"],
    ),
    "compliance.retention_applied": (
        {
            "policy_id": 1,
            "record_type": "workflow.run",
            "label": "Workflow runs",
            "age_days": 30,
            "action": "anonymise",
            "run_id": 4,
            "acted": 1204,
            "held": 3,
        },
        ["Retention anonymised 1,204 workflow runs older than 30 days (3 kept under legal hold)"],
    ),
    "compliance.legal_hold_placed": (
        {
            "hold_id": 2,
            "record_type": "workflow.run",
            "label": "Workflow runs",
            "object_id": "77",
            "reason": "Dispute with Acme",
        },
        ["Jane Doe put Workflow runs 77 under a legal hold: Dispute with Acme"],
    ),
    "compliance.legal_hold_released": (
        {
            "hold_id": 2,
            "record_type": "workflow.run",
            "label": "Workflow runs",
            "object_id": "77",
            "reason": "Dispute with Acme",
        },
        ["Jane Doe released the legal hold on Workflow runs 77"],
    ),
    "compliance.data_request_opened": (
        {"request_id": 3, "kind": "erasure", "law": "gdpr", "subject_id": "BOB", "due": "2026-12-31"},
        ["Jane Doe opened an erasure request for Bob Brown"],
    ),
    "compliance.data_request_completed": (
        {"request_id": 3, "kind": "access", "law": "gdpr", "subject_id": "BOB", "due": "2026-12-31", "rows": 1520},
        ["The copy of Bob Brown's data is ready (1,520 records)"],
    ),
    "compliance.data_request_refused": (
        {"request_id": 3, "kind": "portability", "law": "ccpa", "subject_id": "BOB", "due": "2027-01-15"},
        ["Jane Doe refused Bob Brown's portability request"],
    ),
    "compliance.data_request_due": (
        {"request_id": 3, "kind": "access", "law": "gdpr", "subject_id": "BOB", "due": "2026-12-31", "days_left": 1},
        ["An access request of Bob Brown is due in 1 day"],
    ),
    "compliance.consent_purpose_changed": (
        {"purpose_id": 1, "key": "analytics", "name": "Product analytics", "version": 2},
        ["Jane Doe changed the consent purpose “Product analytics” (version 2)"],
    ),
    "compliance.access_review_opened": (
        {"review_id": 1, "period": "2026-Q4", "members": 12},
        ["The access review of 2026-Q4 is open: confirm each of the 12 members' access"],
    ),
    "compliance.access_review_completed": (
        {"review_id": 1, "period": "2026-Q4", "kept": 11, "removed": 1},
        ["Jane Doe completed the access review of 2026-Q4: 11 kept, 1 removed"],
    ),
    "compliance.report_ready": (
        {"report_id": 3, "month": "2026-11"},
        ["The compliance report of November 2026 is ready"],
    ),
    "flags.experiment_created": (EXPERIMENT, ["Jane Doe created the experiment “Checkout copy”"]),
    "flags.experiment_changed": (EXPERIMENT, ["Jane Doe changed the experiment “Checkout copy”"]),
    "flags.experiment_started": (EXPERIMENT, ["Jane Doe started the experiment “Checkout copy”"]),
    "flags.experiment_stopped": (EXPERIMENT, ["Jane Doe stopped the experiment “Checkout copy”"]),
    "flags.experiment_deleted": (EXPERIMENT, ["Jane Doe deleted the experiment “Checkout copy”"]),
    "flags.experiment_shipped": (
        EXPERIMENT,
        ["Jane Doe shipped “test” of the experiment “Checkout copy” to everyone on “new-checkout”"],
    ),
    "integrations.connection_created": (CONNECTION, ["Jane Doe connected “Team Slack”"]),
    "integrations.connection_changed": (CONNECTION, ["Jane Doe changed the connection “Team Slack”"]),
    "integrations.connection_deleted": (CONNECTION, ["Jane Doe deleted the connection “Team Slack”"]),
    "integrations.connection_failed": (
        {**CONNECTION, "reason": "The token expired."},
        ["The connection “Team Slack” stopped working: The token expired."],
    ),
    "integrations.spec_imported": (SPEC, ["Jane Doe imported the API “Billing API” (12 operations)"]),
    "integrations.spec_deleted": (SPEC, ["Jane Doe deleted the imported API “Billing API”"]),
    "plugin.enabled": (PLUGIN, ["Jane Doe enabled the plugin “Pulse”"]),
    "plugin.configured": (PLUGIN, ["Jane Doe changed the settings of the plugin “Pulse”"]),
    "plugin.disabled": (PLUGIN, ["Jane Doe disabled the plugin “Pulse”"]),
    "plugin.uninstalled": (PLUGIN, ["Jane Doe uninstalled the plugin “Pulse”"]),
    "workflow.published": (
        {"workflow_id": 4, "workflow": "Welcome new members", "version": 2},
        ["Jane Doe published version 2 of the workflow “Welcome new members”"],
    ),
    "workflow.run_started": (RUN, ["The workflow “Welcome new members” started (run 8, by event)"]),
    "workflow.run_succeeded": (RUN, ["The workflow “Welcome new members” finished (run 8)"]),
    "workflow.run_failed": (
        {**RUN, "error": "The Slack step timed out."},
        ["The workflow “Welcome new members” failed (run 8): The Slack step timed out."],
    ),
    "workflow.approval_requested": (
        {**RUN, "approval_id": 1, "title": "Refund over 500", "assignee_id": None, "role": "admin"},
        ["The workflow “Welcome new members” asks for approval: Refund over 500"],
    ),
    "workflow.approval_escalated": (
        {**RUN, "approval_id": 1, "title": "Refund over 500", "assignee_id": None, "role": "owner"},
        ["The approval “Refund over 500” of the workflow “Welcome new members” was not decided in time and went up"],
    ),
    "security.incident_raised": (
        {
            **INCIDENT,
            "rule": "new_country",
            "rule_label": "Log-in from a new country",
            "severity": "medium",
            "summary": "bob@example.com logged in from Sydney, Australia, a country they had not logged in from before",
        },
        ["Log-in from a new country (medium): bob@example.com logged in from Sydney, Australia"],
    ),
    "security.serious_incident_raised": (
        INCIDENT,
        ["Brute force from one address (high): Failed log-ins for 5 different accounts from 192.0.2.66"],
    ),
    "security.incident_responded": (
        {
            "incident_id": 3,
            "action": "lock_account",
            "automatic": False,
            "outcome": "Locked bob@example.com's account: they cannot log in until it is unlocked",
        },
        ["Jane Doe locked the account for incident #3: Locked bob@example.com's account"],
    ),
    "security.incident_closed": (
        {
            "incident_id": 3,
            "status": "dismissed",
            "summary": "bob@example.com logged in from a new device",
            "note": "His new laptop",
        },
        ["Jane Doe dismissed incident #3: bob@example.com logged in from a new device"],
    ),
    "security.rule_changed": (
        {
            "rule": "new_device",
            "rule_label": "Log-in from a new device",
            "enabled": True,
            "auto_actions": ["end_sessions"],
        },
        ["Jane Doe set the rule “Log-in from a new device” (with automatic responses)"],
    ),
}
# Types that are never published as events: only notifications carry them, with their own words.
NOT_PUBLISHED = {"workflow.message"}


def test_every_event_type_has_an_example():
    missing = set(registry["event_types"]) - set(EXAMPLES) - NOT_PUBLISHED
    assert not missing, f"add an example sentence test for {sorted(missing)}"


@pytest.fixture
def people(db):
    return {
        "JANE": UserFactory(email="jane@example.com", full_name="Jane Doe"),
        "BOB": UserFactory(email="bob@example.com", full_name="Bob Brown"),
    }


def _event(name, payload, actor):
    return SimpleNamespace(type=name, payload=payload, actor=actor, actor_id=actor.pk, occurred_at=timezone.now())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_sentence_names_the_actor_and_the_object(name, people):
    event_type = registry["event_types"].get(name)
    assert event_type is not None
    assert event_type.summary is not None, f"{name} has no summary: declare one with the event type"
    payload, words = EXAMPLES[name]
    payload = {k: people[v].pk if isinstance(v, str) and v in people else v for k, v in payload.items()}
    actor = people["BOB"] if name in ("member.joined", "invitation.accepted") else people["JANE"]
    sentence = registry.event_sentence(_event(name, payload, actor))
    for word in words:
        assert word in sentence, (name, sentence)
    words_only = re.sub(r"\S+@\S+|https?://\S+|“[^”]*”", "", sentence)  # addresses and quoted names aside
    assert not re.search(r"\b[a-z_]+\.[a-z_]+\b", words_only), sentence
    url = registry.event_url(_event(name, payload, actor))
    assert url.startswith("/") if name not in NO_PAGE_YET else url == "", (name, url)


def test_a_member_who_left_is_said_to_have_left(people):
    payload = {"membership_id": 1, "user_id": people["BOB"].pk, "email": "b@x.y", "role": "member", "left": True}
    assert (
        registry.event_sentence(_event("member.removed", payload, people["BOB"])) == "Bob Brown left the organisation"
    )


def test_without_a_summary_the_sentence_is_the_label_and_the_actor(people):
    bare = EventType("thing.happened", "Thing happened", "A thing happened.")
    assert bare.sentence(_event("thing.happened", {}, people["JANE"])) == "Thing happened — Jane Doe"
    assert bare.sentence(SimpleNamespace(type="t", payload={}, actor=None, actor_id=None)) == "Thing happened"
    assert bare.url(None) == ""
    formatted = EventType("thing.made", "Thing made", "", summary="{actor} made “{name}”")
    assert formatted.sentence(_event("thing.made", {"name": "Box"}, people["JANE"])) == "Jane Doe made “Box”"


def test_role_change_notification_is_a_sentence_with_a_link(in_tenant_a, owner_a, run_now):
    owner_a.full_name = "Olive Owner"
    owner_a.save()
    member = add_member(in_tenant_a, "mem@example.com")
    member.user.full_name = "Mel Member"
    member.user.save()
    owner = Membership.objects.get(tenant=in_tenant_a, role="owner")
    run_now(lambda: membership_change_role(actor=owner, membership=member, role="viewer"))
    note = Notification.objects.get(user_id=member.user_id, event_type="member.role_changed")
    assert note.title == "Olive Owner changed Mel Member's role to Viewer"
    assert note.url == "/members/"


def test_activity_feed_speaks_in_words_with_links(in_tenant_a, owner_a, tenant_b, owner_b):
    owner_a.full_name = "Olive Owner"
    owner_a.save()
    owner = Membership.objects.get(tenant=in_tenant_a, role="owner")
    api_key_create(actor=owner, name="CI deploy", scopes=["api:read"])
    with tenant_context(tenant_b):
        other = Membership.objects.get(tenant=tenant_b, role="owner")
        api_key_create(actor=other, name="Beta secret key", scopes=["api:read"])
    client = client_for(in_tenant_a, owner_a)
    for path in ("/", "/activity/"):
        page = client.get(path).content.decode()
        assert "Olive Owner created the API key “CI deploy”" in page
        assert 'href="/developers/keys/"' in page
        assert "Beta secret key" not in page  # tenant B's activity never shows
        assert "api_key.created" not in page


def test_activity_page_shows_more(in_tenant_a, owner_a):
    owner = Membership.objects.get(tenant=in_tenant_a, role="owner")
    for i in range(30):
        api_key_create(actor=owner, name=f"key {i:02}", scopes=["api:read"])
    client = client_for(in_tenant_a, owner_a)
    first = client.get("/activity/").content.decode()
    assert "“key 29”" in first and "“key 00”" not in first and "Show more" in first
    second = client.get("/activity/?page=2").content.decode()
    assert "“key 00”" in second


# Pages a member reads, with the codes that must not show where a label exists.
CODE_PATTERN = re.compile(r"\b(member|invitation|organisation|webhook|api_key)\.[a-z_]+\b")


def test_no_user_page_shows_an_event_code_where_a_label_exists(in_tenant_a, owner_a, run_now):
    member = add_member(in_tenant_a, "codes@example.com")
    owner = Membership.objects.get(tenant=in_tenant_a, role="owner")
    run_now(lambda: membership_change_role(actor=owner, membership=member, role="viewer"))
    client = client_for(in_tenant_a, owner_a)
    for path in ("/", "/activity/", "/notifications/", "/notifications/preferences/"):
        text = strip_tags(client.get(path).content.decode())  # what people read, not attributes
        assert not CODE_PATTERN.search(text), (path, CODE_PATTERN.search(text).group())


def test_webhook_choices_show_labels_with_the_code_small(in_tenant_a, owner_a):
    page = client_for(in_tenant_a, owner_a).get("/webhooks/").content.decode()
    assert '<span>Member joined <small class="muted"><code>member.joined</code></small></span>' in page


def test_api_key_form_shows_scope_words(in_tenant_a, owner_a):
    page = client_for(in_tenant_a, owner_a).get("/developers/keys/").content.decode()
    assert "Event types: view" in page
    assert "<code>events:read</code>" in page
    assert "events:write" not in page  # read only
    assert "(read only)" not in page


def test_push_not_configured_is_said_in_words(in_tenant_a, owner_a, settings):
    settings.HUB_VAPID_PUBLIC_KEY = ""
    page = client_for(in_tenant_a, owner_a).get("/notifications/preferences/").content.decode()
    assert "Browser notifications are not available on this server yet." in page
    assert "VAPID" not in page
    owner_a.is_staff = True
    owner_a.save()
    assert (
        "HUB_VAPID_PUBLIC_KEY" in client_for(in_tenant_a, owner_a).get("/notifications/preferences/").content.decode()
    )


def test_activity_page_is_for_members_of_the_tenant_only(tenant_a, tenant_b, owner_a):
    assert client_for(tenant_b, owner_a).get("/activity/").status_code == 403
    assert client_for(tenant_a).get("/activity/").status_code == 302  # log in first


@pytest.mark.parametrize(
    "name, payload, sentence",
    [
        (
            "organisation.settings_changed",
            {"changes": {"name": {"old": "A", "new": "B"}}},
            "The organisation was renamed to “B”",
        ),
        ("api_key.created", {"key_id": 1, "name": "Nightly", "prefix": "hub_1"}, "The API key “Nightly” was created"),
        (
            "security.incident_responded",
            {
                "incident_id": 3,
                "action": "end_sessions",
                "automatic": True,
                "outcome": "Ended 2 sessions of b@example.com.",
            },
            "The platform automatically ended the sessions for incident #3: Ended 2 sessions of b@example.com.",
        ),
        (
            "invitation.sent",
            {"invitation_id": 1, "email": "c@example.com", "role": "admin"},
            "c@example.com was invited as admin",
        ),
    ],
)
def test_what_the_system_did_is_said_without_inventing_a_person(name, payload, sentence):
    event = SimpleNamespace(type=name, payload=payload, actor=None, actor_id=None, occurred_at=timezone.now())
    assert registry.event_sentence(event) == sentence
