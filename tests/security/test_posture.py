"""Security posture: each check finds what it should (and nothing when it is fixed), the score and
grade follow the findings, scans are stored per tenant, the daily task and the security_scan
command (words, JSON, --fail-under, one-line errors)."""

import dataclasses
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.api.models import ApiKey
from apps.core.registry import registry
from apps.identity import mfa
from apps.identity.models import TenantSecurity, TOTPDevice
from apps.notifications import signing
from apps.notifications.models import WebhookEndpoint
from apps.security import tasks
from apps.security.models import Incident, PostureScan
from apps.security.posture import Finding, Posture, grade_of, score_of, tenant_posture
from apps.security.services import posture_scan_run
from apps.tenancy.models import Tenant
from tests.api.conftest import make_key
from tests.conftest import client_for, manage
from tests.factories import MembershipFactory, UserFactory


def posture(tenant) -> Posture:
    with tenant_context(tenant):
        return tenant_posture(tenant)


def codes(tenant) -> dict[str, Finding]:
    return {f.code: f for f in posture(tenant).findings}


def set_policy(tenant, **fields):
    TenantSecurity.objects.update_or_create(tenant=tenant, defaults=fields)
    mfa.tenant_security_forget(tenant=tenant)


def give_factor(user):
    TOTPDevice.objects.create(user=user, name="app", key="ab" * 20, confirmed=True)


@pytest.fixture
def secured(tenant_a, owner_a):
    """Tenant A with the MFA policy on and its owner holding a factor: nothing to find."""
    set_policy(tenant_a, mfa_required=True)
    give_factor(owner_a)
    yield tenant_a
    mfa.tenant_security_forget(tenant=tenant_a)


def incident(severity, status="open"):
    return Incident.objects.create(
        rule="brute_force", severity=severity, status=status, dedup_key=f"posture:{uuid.uuid4()}", summary="test",
        occurred_at=timezone.now(),
    )  # fmt: skip


def test_a_new_organisation_is_told_to_require_factors_and_that_its_owner_has_none(tenant_a, owner_a):
    mfa.tenant_security_forget(tenant=tenant_a)
    found = posture(tenant_a)
    assert [f.code for f in found.findings] == ["admins_without_factor", "mfa_policy_off"]  # the worst first
    bare = found.findings[0]
    assert bare.severity == "critical" and bare.count == 1 and owner_a.email in bare.detail
    assert found.score == 100 - 25 - 15 and found.grade == "D" and found.grade_words == "Weak"
    assert found.checked_at <= timezone.now()


def test_a_secured_organisation_scores_100(secured):
    found = posture(secured)
    assert found.findings == [] and found.score == 100 and found.grade == "A"


def test_posture_and_finding_are_frozen_with_the_promised_fields(secured):
    found = posture(secured)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.score = 1
    assert [f.name for f in dataclasses.fields(Posture)] == ["score", "grade", "findings", "checked_at"]
    assert [f.name for f in dataclasses.fields(Finding)] == ["code", "severity", "title", "detail", "fix_url", "count"]


def test_score_and_grade():
    low = Finding("x", "low", "X", "x", "/")
    assert score_of([]) == 100 and score_of([low] * 40) == 0
    assert [grade_of(s) for s in (100, 90, 89, 75, 65, 50, 39, 0)] == ["A", "A", "B", "C", "D", "E", "F", "F"]


def test_an_admin_without_a_factor_is_high_an_owner_critical(secured, tenant_a):
    admin = UserFactory(email="ada@alpha.example.com")
    MembershipFactory(tenant=tenant_a, user=admin, role="admin")
    MembershipFactory(tenant=tenant_a, user=UserFactory(), role="member")  # members are not counted
    found = codes(tenant_a)["admins_without_factor"]
    assert found.severity == "high" and found.count == 1 and "ada@alpha.example.com" in found.detail
    give_factor(admin)
    assert "admins_without_factor" not in codes(tenant_a)


def test_api_keys_old_unused_without_expiry_or_with_every_scope(secured, tenant_a, settings):
    settings.HUB_POSTURE_KEY_MAX_AGE_DAYS = 365
    settings.HUB_POSTURE_KEY_UNUSED_DAYS = 90
    now = timezone.now()
    everything, _ = make_key(tenant_a, name="everything", expires_at=now + timedelta(days=30))
    narrow, _ = make_key(tenant_a, scope_list=["content:read"], name="narrow")
    old, _ = make_key(tenant_a, scope_list=["content:read"], name="old", expires_at=now + timedelta(days=30))
    revoked, _ = make_key(tenant_a, name="revoked")
    with schema_context(tenant_a.schema_name):
        ApiKey.objects.filter(pk__in=[everything.pk, narrow.pk]).update(last_used_at=now)
        long_ago = {"created": now - timedelta(days=400), "last_used_at": now - timedelta(days=91)}
        ApiKey.objects.filter(pk=old.pk).update(**long_ago)
        ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=now, created=now - timedelta(days=400))
    found = codes(tenant_a)
    assert found["api_keys_every_scope"].count == 1  # "everything" (the revoked one is not counted)
    assert found["api_keys_no_expiry"].count == 1  # "narrow"
    assert found["api_keys_old"].count == 1 and "365 days" in found["api_keys_old"].detail
    assert found["api_keys_unused"].count == 1
    with schema_context(tenant_a.schema_name):
        ApiKey.objects.update(revoked_at=now)
    assert not {"api_keys_every_scope", "api_keys_no_expiry", "api_keys_old", "api_keys_unused"} & set(codes(tenant_a))


def test_webhooks_without_https(secured, tenant_a):
    with schema_context(tenant_a.schema_name):
        for url, active in [("http://hooks.example.com/a", True), ("https://safe.example.com/", True),
                            ("http://off.example.com/", False)]:  # fmt: skip
            WebhookEndpoint.objects.create(url=url, secret=signing.secret_generate(), is_active=active)
    found = codes(tenant_a)["webhooks_without_https"]
    assert found.severity == "high" and found.count == 1 and "hooks.example.com" in found.detail


def test_single_sign_on_set_up_but_not_enforced(secured, tenant_a):
    set_policy(tenant_a, mfa_required=True, sso_enabled=True, sso_domains=["alpha.example.com"])
    assert "alpha.example.com" in codes(tenant_a)["sso_not_enforced"].detail
    set_policy(tenant_a, mfa_required=True, sso_enabled=True, sso_domains=["alpha.example.com"], sso_enforced=True)
    assert "sso_not_enforced" not in codes(tenant_a)


def test_too_many_owners(secured, tenant_a, settings):
    settings.HUB_POSTURE_MAX_OWNERS = 1
    second = UserFactory()
    give_factor(second)
    MembershipFactory(tenant=tenant_a, user=second, role="owner")
    assert codes(tenant_a)["too_many_owners"].count == 2
    settings.HUB_POSTURE_MAX_OWNERS = 2
    assert "too_many_owners" not in codes(tenant_a)


def test_admins_who_no_longer_log_in(secured, tenant_a, settings):
    settings.HUB_POSTURE_DORMANT_ADMIN_DAYS = 90
    long_ago = timezone.now() - timedelta(days=100)
    people = [
        ("gone@alpha.example.com", long_ago, True),
        ("here@alpha.example.com", timezone.now(), True),
        ("locked@alpha.example.com", long_ago, False),
    ]
    for email, last, active in people:
        user = UserFactory(email=email, last_login=last, is_active=active)
        give_factor(user)
        MembershipFactory(tenant=tenant_a, user=user, role="admin")
    found = codes(tenant_a)["dormant_admins"]
    assert found.count == 1 and "gone@alpha.example.com" in found.detail and "here@" not in found.detail


def test_open_serious_incidents(secured, tenant_a):
    with schema_context(tenant_a.schema_name):
        incident("medium")
        incident("critical", status="resolved")
        assert "open_serious_incidents" not in codes(tenant_a)
        incident("high")
        assert codes(tenant_a)["open_serious_incidents"].severity == "high"
        incident("critical")
        found = codes(tenant_a)["open_serious_incidents"]
        assert found.severity == "critical" and found.count == 2 and "1 critical" in found.detail


def test_every_fix_link_opens_for_the_owner(tenant_a, owner_a, settings):
    settings.HUB_POSTURE_MAX_OWNERS = 0
    set_policy(tenant_a, sso_enabled=True, sso_domains=["alpha.example.com"])
    make_key(tenant_a)
    with schema_context(tenant_a.schema_name):
        WebhookEndpoint.objects.create(url="http://hooks.example.com/", secret=signing.secret_generate())
        ApiKey.objects.update(created=timezone.now() - timedelta(days=400))
        incident("high")
    found = posture(tenant_a).findings
    assert len(found) >= 9
    client = client_for(tenant_a, owner_a)
    for finding in found:
        assert client.get(finding.fix_url).status_code == 200, finding
    mfa.tenant_security_forget(tenant=tenant_a)


def test_a_scan_is_stored_in_its_tenant_only(tenant_a, tenant_b, owner_a):
    with tenant_context(tenant_a):
        scan = posture_scan_run(tenant=tenant_a, actor=owner_a)
        assert scan.checked_by_id == owner_a.pk and scan.score == posture(tenant_a).score
        assert {f["code"] for f in scan.findings} == {"admins_without_factor", "mfa_policy_off"}
    with tenant_context(tenant_b):
        assert not PostureScan.objects.filter(pk=scan.pk, checked_at=scan.checked_at).exists()


def test_the_daily_task_checks_every_active_tenant(tenant_a, tenant_b, monkeypatch):
    assert registry["periodic_tasks"]["security-posture-scan"].schedule == 24 * 3600.0

    def run_in(headers, **kwargs):
        tenant = Tenant.objects.get(schema_name=headers["_schema_name"])
        with tenant_context(tenant):
            tasks.posture_scan()

    monkeypatch.setattr(tasks.posture_scan, "apply_async", run_in)
    assert tasks.posture_scan_all_tenants() >= 2
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            assert PostureScan.objects.filter(checked_by=None).count() == 1


# --- The command --------------------------------------------------------------------------------


def test_the_command_prints_the_score_and_findings_in_words(tenant_a, owner_a):
    result = manage("security_scan", "--tenant", tenant_a.slug)
    assert result.returncode == 0, result.stderr
    assert f"{tenant_a.slug} ({tenant_a.name}): 60/100, grade D (Weak), 2 findings" in result.stdout
    assert "Critical  Owners or admins without a second factor:" in result.stdout
    assert f"Fix: http://{tenant_a.slug}." in result.stdout
    with tenant_context(tenant_a):
        assert PostureScan.objects.get().score == 60


def test_the_command_fails_under_a_score(tenant_a, secured):
    assert manage("security_scan", "--tenant", tenant_a.slug, "--fail-under", "100").returncode == 0
    set_policy(tenant_a, mfa_required=False)
    result = manage("security_scan", "--tenant", tenant_a.slug, "--fail-under", "90")
    assert result.returncode == 1
    assert result.stderr.strip() == f"CommandError: 1 of 1 tenants score below 90: {tenant_a.slug} (85)."


def test_the_command_speaks_json_for_every_tenant(tenant_a, tenant_b):
    result = manage("security_scan", "--all", "--json")
    assert result.returncode == 0, result.stderr
    found = {t["slug"]: t for t in json.loads(result.stdout)["tenants"]}
    assert {tenant_a.slug, tenant_b.slug} <= set(found)
    alpha = found[tenant_a.slug]
    assert alpha["score"] == 60 and alpha["grade"] == "D"
    assert alpha["findings"][0]["code"] == "admins_without_factor"
    assert alpha["findings"][0]["fix_url"].startswith(f"http://{tenant_a.slug}.")
    assert "tenants checked" in result.stderr  # the progress line, off standard output


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--tenant", "nope"], "No tenant with the slug “nope”."),
        (["--all", "--fail-under", "101"], "a score is a whole number from 0 to 100, not “101”"),
        ([], "one of the arguments --tenant --all is required"),
    ],
)
def test_the_command_refuses_in_one_line(db, args, line):
    result = manage("security_scan", *args)
    assert result.returncode == 1
    assert line in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- The page -----------------------------------------------------------------------------------


def test_the_page_checks_and_shows_the_score_findings_and_last_checks(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    first = client.get("/security-incidents/posture/")
    assert first.status_code == 200 and "Not checked yet" in first.content.decode()
    answer = client.post("/security-incidents/posture/check/", follow=True)
    page = answer.content.decode()
    assert answer.redirect_chain == [("/security-incidents/posture/", 302)]
    assert "Checked: 60/100 (grade D), 2 things to fix." in page
    assert 'data-score="60"' in page and "Weak" in page
    assert 'data-finding="admins_without_factor"' in page and 'data-finding="mfa_policy_off"' in page
    assert 'href="/settings/security/"' in page and "Fix this" in page
    assert page.count("data-scan=") == 1
    client.post("/security-incidents/posture/check/")
    assert client.get("/security-incidents/posture/").content.decode().count("data-scan=") == 2
    export = client.get("/security-incidents/posture/?f-_export=csv")
    text = b"".join(export.streaming_content).decode()
    assert "Owners or admins without a second factor" in text and "critical" in text


def test_members_cannot_see_or_run_the_check(tenant_a):
    member = UserFactory()
    MembershipFactory(tenant=tenant_a, user=member, role="member")
    client = client_for(tenant_a, member)
    assert client.get("/security-incidents/posture/").status_code == 403
    assert client.post("/security-incidents/posture/check/").status_code == 403
    with tenant_context(tenant_a):
        assert not PostureScan.objects.exists()


def test_another_tenant_never_sees_the_scans(tenant_a, tenant_b, owner_a, owner_b):
    with schema_context(tenant_a.schema_name):
        WebhookEndpoint.objects.create(url="http://alpha-only.example.com/", secret=signing.secret_generate())
    client_for(tenant_a, owner_a).post("/security-incidents/posture/check/")
    mine = client_for(tenant_a, owner_a).get("/security-incidents/posture/").content.decode()
    assert "alpha-only.example.com" in mine
    page = client_for(tenant_b, owner_b).get("/security-incidents/posture/").content.decode()
    assert "Not checked yet" in page and "alpha-only" not in page
    assert client_for(tenant_b, owner_a).get("/security-incidents/posture/").status_code in (302, 403, 404)
    with tenant_context(tenant_b):
        assert not PostureScan.objects.exists()
