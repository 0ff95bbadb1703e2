"""Compliance records of a tenant: the seals that chain its audit log, and where its audit entries
are forwarded (SIEM).

The seals are written by the database itself (a trigger on the tenant's `auditlog_logentry`, see
apps/compliance/sql.py), never by the app: every way an entry is written — the ORM, a bulk
insert, raw SQL — gets its seal, in commit order.
"""

from django.conf import settings
from django.db import models

from apps.core.crypto import EncryptedTextField

GENESIS = "0" * 64  # the previous hash of the first entry


class AuditSeal(models.Model):
    """One audit entry's link in the tenant's hash chain: hash = sha256(prev_hash + canonical entry).

    `entry_id` is the LogEntry's id (no foreign key: an entry deleted by force must leave its seal
    behind for verify_audit to see the gap). Append-only, like the entries (database triggers).
    """

    seq = models.BigAutoField(primary_key=True)
    entry_id = models.BigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()

    class Meta:
        verbose_name = "audit seal"

    def __str__(self) -> str:
        return f"seal {self.seq} of entry {self.entry_id}"


class SiemSettings(models.Model):
    """Where the tenant's audit entries go as they are written: nowhere, a syslog server (RFC 5424
    over UDP or TCP) or a webhook. One row per tenant. `forwarded_seq` is the last seal sent."""

    class Transport(models.TextChoices):
        OFF = "off", "Not forwarded"
        SYSLOG_UDP = "syslog_udp", "Syslog (RFC 5424) over UDP"
        SYSLOG_TCP = "syslog_tcp", "Syslog (RFC 5424) over TCP"
        WEBHOOK = "webhook", "Webhook (signed JSON)"

    transport = models.CharField(max_length=16, choices=Transport.choices, default=Transport.OFF)
    host = models.CharField(max_length=253, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    secret = EncryptedTextField(blank=True)  # the webhook's signing secret (whsec_…)
    forwarded_seq = models.BigIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SIEM forwarding settings"
        verbose_name_plural = "SIEM forwarding settings"

    def __str__(self) -> str:
        return self.get_transport_display()


class RetentionPolicy(models.Model):
    """How long the tenant keeps one kind of record (a registry RetentionType, by key), and what
    happens to it after: deleted, anonymised or archived. Applied by Celery beat every hour."""

    record_type = models.CharField(max_length=100, unique=True)
    age_days = models.PositiveIntegerField()
    action = models.CharField(max_length=20)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["record_type"]
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        return f"{self.record_type}: {self.action} after {self.age_days} days"


class LegalHold(models.Model):
    """One record no retention policy may touch while the hold stands (a dispute, an inquiry)."""

    record_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)  # the record's primary key, as text (some are UUIDs)
    reason = models.CharField(max_length=500)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "object_id"],
                condition=models.Q(released_at__isnull=True),
                name="one_standing_hold_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"hold on {self.record_type} {self.object_id}"


class RetentionRun(models.Model):
    """The log: one application (or dry-run preview) of a policy, with what it found and did."""

    policy = models.ForeignKey(RetentionPolicy, null=True, on_delete=models.SET_NULL, related_name="runs")
    record_type = models.CharField(max_length=100)
    action = models.CharField(max_length=20)
    age_days = models.PositiveIntegerField()
    dry_run = models.BooleanField(default=False)
    matched = models.PositiveIntegerField(default=0)  # older than the age
    held = models.PositiveIntegerField(default=0)  # of which under a legal hold: kept
    acted = models.PositiveIntegerField(default=0)  # deleted, anonymised or archived
    archive = models.CharField(max_length=500, blank=True)  # the archive's name in storage
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.record_type} {'preview' if self.dry_run else 'run'} at {self.started_at:%Y-%m-%d %H:%M}"


class DataRequest(models.Model):
    """A person's request about their personal data (GDPR articles 15–20, CCPA): a copy of it
    (access; portability: the same files, machine-readable), its erasure, or its correction
    (rectification). Opened by the person or by an admin for them; answered by the due date the
    law sets (30 days, 45 under the CCPA). See apps/compliance/requests.py."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access (a copy of their data)"
        PORTABILITY = "portability", "Portability (their data, machine-readable)"
        ERASURE = "erasure", "Erasure"
        RECTIFICATION = "rectification", "Rectification (correct their data)"

    class Law(models.TextChoices):
        GDPR = "gdpr", "GDPR (answer within 30 days)"
        CCPA = "ccpa", "CCPA (answer within 45 days)"

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", "Waiting for the person to confirm"
        OPEN = "open", "Open"
        RUNNING = "running", "In progress"
        DONE = "done", "Completed"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    law = models.CharField(max_length=8, choices=Law.choices, default=Law.GDPR)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNVERIFIED)
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    subject_name = models.CharField(max_length=300)  # as the request was opened: "Erased person" after erasure
    details = models.TextField(blank=True)  # what the person says (for a rectification: what is wrong)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    verification = models.CharField(max_length=300, blank=True)  # how the person's identity was verified
    progress = models.PositiveSmallIntegerField(default=0)  # percent, while the copy is made
    file = models.CharField(max_length=300, blank=True)  # the copy's ZIP in default storage
    file_size = models.BigIntegerField(default=0)
    rows = models.BigIntegerField(default=0)  # rows exported, or erased/anonymised
    outcome = models.JSONField(default=dict, blank=True)  # per part: rows exported or erased
    resolution = models.TextField(blank=True)  # why it was refused, what was corrected, or the error
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)  # the last day the admins were reminded

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="compliance_request_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "kind"],
                # OR of equalities, not IN: a cloned schema re-creates the index from its printed
                # definition, and an IN list prints as an array expression that reads back differently.
                condition=models.Q(status="unverified") | models.Q(status="open") | models.Q(status="running"),
                name="one_unanswered_request_per_person_and_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind_name} request #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED)

    @property
    def kind_name(self) -> str:
        return self.get_kind_display().split(" (")[0]

    @property
    def kind_word(self) -> str:
        return self.kind_name.lower()


# A request still waiting for its answer (the person's confirmation, an admin, or the copy).
UNFINISHED = (DataRequest.Status.UNVERIFIED, DataRequest.Status.OPEN, DataRequest.Status.RUNNING)


class ConsentPurpose(models.Model):
    """Something the tenant asks people's consent for (analytics, marketing e-mails…), in the words
    shown to them. Changing the words makes a new `version`: consent given to the earlier words is
    shown as given to an older text."""

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField()  # the text people are shown
    version = models.PositiveIntegerField(default=1)
    required = models.BooleanField(default=False)  # strictly necessary: shown, always on, never withdrawn
    active = models.BooleanField(default=True)  # offered in the banner and accepted by the API
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-required", "name"]

    def __str__(self) -> str:
        return self.name


class ConsentRecord(models.Model):
    """One grant or withdrawal, as given: by whom (`subject`: how the tenant's site knows the person,
    or the banner's visitor id), when, how, and the text they were shown. Append-only: a person's
    consent to a purpose is their latest record for it."""

    class Method(models.TextChoices):
        BANNER = "banner", "The consent banner"
        API = "api", "The API"
        DASHBOARD = "dashboard", "Recorded by an admin"

    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="records")
    subject = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted = models.BooleanField()
    method = models.CharField(max_length=12, choices=Method.choices)
    text_shown = models.TextField()
    purpose_version = models.PositiveIntegerField()
    source = models.CharField(max_length=500, blank=True)  # the page it was given on
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["subject", "purpose", "-recorded_at"], name="compliance_consent_latest")]

    def __str__(self) -> str:
        return f"{'granted' if self.granted else 'withdrawn'}: {self.purpose_id} by {self.subject}"


class AccessReview(models.Model):
    """A quarter's review of who has access: an admin confirms each member's role, or removes them.
    Opened at the start of each quarter (or by hand); complete when every member is decided."""

    period = models.CharField(max_length=7, unique=True)  # "2026-Q4"
    opened_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"access review {self.period}"


class AccessReviewItem(models.Model):
    """One member's access in a review, as it was when the review opened, and the decision."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Not reviewed yet"
        KEPT = "kept", "Access confirmed"
        REMOVED = "removed", "Removed from the organisation"
        LEFT = "left", "Left before the review"

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="items")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=300)  # as the review opened
    role = models.CharField(max_length=20)
    has_second_factor = models.BooleanField(default=False)
    last_login = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="one_item_per_member_and_review")]

    def __str__(self) -> str:
        return f"{self.name} in {self.review_id}: {self.decision}"


class ComplianceReport(models.Model):
    """The monthly compliance report (PDF): evidence for the tenant's customers and auditors."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Being made"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    period_start = models.DateField()
    period_end = models.DateField()  # inclusive
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.CharField(max_length=300, blank=True)
    file_size = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "-pk"]

    def __str__(self) -> str:
        return f"compliance report {self.period_start:%B %Y}"
