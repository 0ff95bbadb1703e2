"""A tenant's security posture: checks of its settings and records, each finding scored.

    with tenant_context(tenant):
        posture = tenant_posture(tenant)   # Posture(score=72, grade="C", findings=[...], checked_at=...)

Each check looks at one thing an admin can fix (the MFA policy, owners and admins without a second
factor, stale or all-powerful API keys, webhooks without HTTPS, single sign-on not enforced, too
many owners, admins who no longer log in, serious incidents left open) and returns a Finding or
nothing. The score starts at 100 and loses its severity's weight for each finding (SEVERITY_WEIGHT);
the grade is the score's band (GRADES). The thresholds are settings (HUB_POSTURE_*).

Runs while the tenant's schema is current (its keys, webhooks and incidents are read there; its
members and log-in policy from the public schema). Reads only: storing a scan is services'.
SIEM forwarding is not checked: it lives in apps.compliance, which reads this module for its
monthly report (importing it back would be a cycle).
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential

from apps.api.models import ApiKey
from apps.core.api import scopes as scope_registry
from apps.identity.mfa import tenant_security_get
from apps.identity.models import EmailDevice, Membership, SMSDevice, TOTPDevice
from apps.identity.roles import Role
from apps.notifications.models import WebhookEndpoint
from apps.tenancy.models import Tenant

from .models import Incident, Severity

SEVERITY_WEIGHT = {Severity.LOW: 3, Severity.MEDIUM: 8, Severity.HIGH: 15, Severity.CRITICAL: 25}
# The lowest score of each grade, best first.
GRADES = (("A", 90), ("B", 80), ("C", 70), ("D", 60), ("E", 40), ("F", 0))
GRADE_WORDS = {
    "A": "Strong",
    "B": "Good",
    "C": "Fair",
    "D": "Weak",
    "E": "Poor",
    "F": "At risk",
}
ADMIN_ROLES = (Role.OWNER, Role.ADMIN)
_FACTOR_MODELS = (TOTPDevice, EmailDevice, SMSDevice, WebAuthnCredential)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # low, medium, high, critical
    title: str  # words people read
    detail: str
    fix_url: str  # a path on the tenant's site
    count: int = 1

    def __post_init__(self):
        object.__setattr__(self, "severity", Severity(self.severity).value)  # a plain string, for JSON

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Posture:
    score: int
    grade: str
    findings: list[Finding] = field(default_factory=list)
    checked_at: datetime = field(default_factory=timezone.now)

    @property
    def grade_words(self) -> str:
        return GRADE_WORDS.get(self.grade, "")


def grade_of(score: int) -> str:
    return next(grade for grade, lowest in GRADES if score >= lowest)


def score_of(findings: list[Finding]) -> int:
    return max(0, 100 - sum(SEVERITY_WEIGHT[Severity(f.severity)] for f in findings))


def _people(count: int, one: str = "person", many: str = "people") -> str:
    return f"{count} {one if count == 1 else many}"


def _names(memberships, limit: int = 3) -> str:
    emails = [m.user.email for m in memberships[:limit]]
    more = len(memberships) - len(emails)
    return ", ".join(emails) + (f" and {more} more" if more > 0 else "")


def _admins(tenant: Tenant) -> list[Membership]:
    return list(
        Membership.objects.filter(tenant=tenant, role__in=ADMIN_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user__email")
    )


# --- The checks: each returns a Finding or None -------------------------------------------------


def check_mfa_policy(tenant: Tenant) -> Finding | None:
    policy = tenant_security_get(tenant=tenant)
    if policy.mfa_required:
        return None
    return Finding(
        "mfa_policy_off", Severity.HIGH, "Second factors are not required",
        "Members can log in with a password alone. Require a second factor (an authenticator app, a passkey, "
        "a code by e-mail or text message) for everyone in the organisation.",
        reverse("security_settings"),
    )  # fmt: skip


def check_admins_without_factor(tenant: Tenant) -> Finding | None:
    admins = _admins(tenant)
    ids = [m.user_id for m in admins]
    with_factor = set()
    for model in _FACTOR_MODELS:
        with_factor |= set(model.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True))
    bare = [m for m in admins if m.user_id not in with_factor]
    if not bare:
        return None
    owners = sum(1 for m in bare if m.role == Role.OWNER)
    return Finding(
        "admins_without_factor", Severity.CRITICAL if owners else Severity.HIGH,
        "Owners or admins without a second factor",
        f"{_people(len(bare))} who can change the organisation's settings and members "
        f"({owners} of them {'an owner' if owners == 1 else 'owners'}) log in with a password alone: {_names(bare)}. "
        "Ask them to add a second factor on their Security page, or require one of them from a security incident.",
        reverse("members"), count=len(bare),
    )  # fmt: skip


def _active_keys():
    now = timezone.now()
    return ApiKey.objects.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def _key_finding(code: str, severity: str, title: str, count: int, what: str, advice: str) -> Finding | None:
    """`what` completes "<n> active API key(s) …" (has/have, was/were chosen by the count)."""
    if not count:
        return None
    one = count == 1
    what = what.replace("{has}", "has" if one else "have").replace("{was}", "was" if one else "were")
    detail = f"{count} active API {'key' if one else 'keys'} {what}. {advice}"
    return Finding(code, severity, title, detail, reverse("api_keys"), count=count)


def check_old_keys(tenant: Tenant) -> Finding | None:
    days = settings.HUB_POSTURE_KEY_MAX_AGE_DAYS
    count = _active_keys().filter(created__lt=timezone.now() - timedelta(days=days)).count()
    return _key_finding(
        "api_keys_old", Severity.MEDIUM, "Old API keys", count, f"{{was}} made more than {days} days ago",
        "Replace long-lived keys with new ones and revoke the old.",
    )  # fmt: skip


def check_unused_keys(tenant: Tenant) -> Finding | None:
    days = settings.HUB_POSTURE_KEY_UNUSED_DAYS
    since = timezone.now() - timedelta(days=days)
    count = _active_keys().annotate(seen=Coalesce("last_used_at", "created")).filter(seen__lt=since).count()
    return _key_finding(
        "api_keys_unused", Severity.MEDIUM, "Unused API keys", count, f"{{has}} not been used for {days} days",
        "A key nobody uses is only a risk: revoke it.",
    )  # fmt: skip


def check_keys_without_expiry(tenant: Tenant) -> Finding | None:
    count = _active_keys().filter(expires_at__isnull=True).count()
    return _key_finding(
        "api_keys_no_expiry", Severity.LOW, "API keys that never expire", count,
        "{has} no expiry date, so a leaked one works for ever", "Give new keys an expiry date.",
    )  # fmt: skip


def _every_scope(scopes) -> bool:
    held = set(scopes or [])
    return all(f"{app}:{scope_registry.levels(app)[-1]}" in held for app in scope_registry.apps())


def check_all_powerful_keys(tenant: Tenant) -> Finding | None:
    count = sum(1 for scopes in _active_keys().values_list("scopes", flat=True) if _every_scope(scopes))
    return _key_finding(
        "api_keys_every_scope", Severity.MEDIUM, "API keys that may do everything", count, "{has} every scope",
        "Give each integration a key with only the scopes it needs.",
    )  # fmt: skip


def check_webhooks_without_https(tenant: Tenant) -> Finding | None:
    plain = [w for w in WebhookEndpoint.objects.filter(is_active=True) if not w.url.lower().startswith("https://")]
    if not plain:
        return None
    hosts = ", ".join(sorted({w.host for w in plain})[:3])
    return Finding(
        "webhooks_without_https", Severity.HIGH, "Webhooks sent without HTTPS",
        f"{len(plain)} active {'webhook sends' if len(plain) == 1 else 'webhooks send'} the organisation's events "
        f"unencrypted ({hosts}). Change each address to https://.",
        reverse("notifications:webhooks"), count=len(plain),
    )  # fmt: skip


def check_sso_not_enforced(tenant: Tenant) -> Finding | None:
    policy = tenant_security_get(tenant=tenant)
    if not policy.sso_enabled or policy.sso_enforced or not policy.sso_domains:
        return None
    return Finding(
        "sso_not_enforced", Severity.LOW, "Single sign-on is not enforced",
        f"Single sign-on is set up for {', '.join(policy.sso_domains[:3])}, but people with those addresses can "
        "still log in with a password, past the identity provider's rules. Enforce single sign-on.",
        reverse("security_settings"),
    )  # fmt: skip


def check_too_many_owners(tenant: Tenant) -> Finding | None:
    limit = settings.HUB_POSTURE_MAX_OWNERS
    count = Membership.objects.filter(tenant=tenant, role=Role.OWNER, user__is_active=True).count()
    if count <= limit:
        return None
    return Finding(
        "too_many_owners", Severity.MEDIUM, "Too many owners",
        f"{count} people are owners (more than {limit}): each can delete the organisation or change its log-in policy. "
        "Make those who only manage members admins.",
        reverse("members") + "?role=owner", count=count,
    )  # fmt: skip


def check_dormant_admins(tenant: Tenant) -> Finding | None:
    days = settings.HUB_POSTURE_DORMANT_ADMIN_DAYS
    since = timezone.now() - timedelta(days=days)
    dormant = list(
        Membership.objects.filter(tenant=tenant, role__in=ADMIN_ROLES, user__is_active=True)
        .annotate(seen=Coalesce("user__last_login", "created"))
        .filter(seen__lt=since)
        .select_related("user")
        .order_by("user__email")
    )
    if not dormant:
        return None
    return Finding(
        "dormant_admins", Severity.MEDIUM, "Admins who no longer log in",
        f"{_people(len(dormant))} with the owner or admin role {'has' if len(dormant) == 1 else 'have'} not logged in "
        f"for {days} days: {_names(dormant)}. Lower their role or remove them.",
        reverse("members"), count=len(dormant),
    )  # fmt: skip


def check_open_incidents(tenant: Tenant) -> Finding | None:
    open_ = Incident.objects.filter(status=Incident.Status.OPEN, severity__in=[Severity.HIGH, Severity.CRITICAL])
    severities = list(open_.values_list("severity", flat=True))
    if not severities:
        return None
    critical = severities.count(Severity.CRITICAL)
    return Finding(
        "open_serious_incidents", Severity.CRITICAL if critical else Severity.HIGH,
        "Serious security incidents left open",
        f"{len(severities)} high or critical {'incident is' if len(severities) == 1 else 'incidents are'} still open"
        f"{f' ({critical} critical)' if critical else ''}. Respond to each, then resolve or dismiss it.",
        reverse("security:incidents") + "?status=open", count=len(severities),
    )  # fmt: skip


CHECKS: tuple[Callable[[Tenant], Finding | None], ...] = (
    check_mfa_policy,
    check_admins_without_factor,
    check_old_keys,
    check_unused_keys,
    check_keys_without_expiry,
    check_all_powerful_keys,
    check_webhooks_without_https,
    check_sso_not_enforced,
    check_too_many_owners,
    check_dormant_admins,
    check_open_incidents,
)
_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}


def tenant_posture(tenant: Tenant) -> Posture:
    """Every check on `tenant` (its schema current), the worst findings first, and the score."""
    found = [finding for check in CHECKS if (finding := check(tenant)) is not None]
    found.sort(key=lambda f: _RANK[Severity(f.severity)])
    score = score_of(found)
    return Posture(score=score, grade=grade_of(score), findings=found, checked_at=timezone.now())
