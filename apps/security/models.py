"""Security incidents and the rules that raise them, in each tenant's schema.

An Incident is raised by a detection rule (apps/security/rules.py) at most once per rule, subject
and window: `dedup_key` says which (unique with the rule). Responses taken on it, by a person or
automatically, are IncidentResponse rows. RuleSetting holds a tenant's choices per rule (on or
off, which responses run by themselves); a rule without a row is on, with no automatic response.
FactorRequirement records that a member must use a second factor in this organisation.
"""

from django.conf import settings
from django.db import models


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class Action(models.TextChoices):
    END_SESSIONS = "end_sessions", "End their sessions"
    LOCK_ACCOUNT = "lock_account", "Lock the account"
    UNLOCK_ACCOUNT = "unlock_account", "Unlock the account"
    REVOKE_KEY = "revoke_key", "Revoke the API key"
    REQUIRE_MFA = "require_mfa", "Require a second factor"


def _user_fk(related_name="+", **kwargs):
    # A tenant table pointing at the public users table, without a database constraint (as
    # apps.api's keys): deleting a user never needs the tenant schemas.
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name=related_name, **kwargs,
    )  # fmt: skip


class Incident(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    rule = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    dedup_key = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, help_text="What happened, in a sentence.")
    # Who or what it is about (any may be empty: brute force is about an address).
    user = _user_fk()
    email = models.EmailField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    api_key = models.ForeignKey("api.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(help_text="When the event that raised it happened.")
    raised_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = _user_fk()
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "dedup_key"], name="security_incident_once_per_window")]
        indexes = [models.Index(fields=["status", "-raised_at"], name="security_incident_open")]

    def __str__(self):
        return f"#{self.pk} {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class IncidentResponse(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="responses")
    action = models.CharField(max_length=20, choices=Action.choices)
    automatic = models.BooleanField(default=False)
    actor = _user_fk()
    outcome = models.CharField(max_length=300)
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done_at", "id"]

    def __str__(self):
        return f"{self.get_action_display()} (incident #{self.incident_id})"


class RuleSetting(models.Model):
    rule = models.CharField(max_length=40, unique=True)
    enabled = models.BooleanField(default=True)
    auto_actions = models.JSONField(default=list, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.rule


class FactorRequirement(models.Model):
    """The member must check a second factor (adding one first if they have none) at each log-in
    to this organisation, until an admin lifts it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    required_by = _user_fk()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="security_one_factor_requirement_per_user")]

    def __str__(self):
        return f"Second factor required of user {self.user_id}"


class PostureScan(models.Model):
    """One check of the organisation's security posture (apps/security/posture.py): its score,
    grade and findings as they were then. Written by the daily check, the security_scan command
    (no one) or an admin's “Check again”; never changed."""

    score = models.PositiveSmallIntegerField()
    grade = models.CharField(max_length=2)
    findings = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(db_index=True)
    checked_by = _user_fk()

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self):
        return f"Security posture {self.score}/100 ({self.grade})"
