"""Reports, raw exports, scheduled reports and the BI role's record (tenant schema).

- ReportJob: one background job that writes a file: a report of insights (CSV, Excel, PDF) or
  raw events of a time range (CSV, Parquet). Its file lives in Django's default storage under
  the tenant's own prefix (see reports.file_prefix).
- ScheduledReport: insights e-mailed daily, weekly or monthly to chosen members.
- BiAccess: the tenant's read-only PostgreSQL role (one at most); its password is encrypted.
"""

from django.conf import settings
from django.db import models

from apps.core.crypto import EncryptedTextField


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel"
    PDF = "pdf", "PDF"
    PARQUET = "parquet", "Parquet"


REPORT_FORMATS = (ReportFormat.CSV, ReportFormat.XLSX, ReportFormat.PDF)
EXPORT_FORMATS = (ReportFormat.CSV, ReportFormat.PARQUET)
# (value, label) pairs, for the API's choices and the OpenAPI document's enums.
REPORT_FORMAT_CHOICES = [(f.value, f.label) for f in REPORT_FORMATS]
EXPORT_FORMAT_CHOICES = [(f.value, f.label) for f in EXPORT_FORMATS]


class ReportJob(models.Model):
    class Kind(models.TextChoices):
        REPORT = "report", "Report"
        EXPORT = "export", "Raw events export"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    format = models.CharField(max_length=10, choices=ReportFormat.choices)
    title = models.CharField(max_length=200)
    # A report: the insights it shows, in order (a dashboard's export is the list of its tiles').
    insight_ids = models.JSONField(default=list, blank=True)
    # An export: {"date_from": "YYYY-MM-DD", "date_to": "YYYY-MM-DD"} (days in the tenant's zone).
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    rows = models.BigIntegerField(default=0)
    file = models.CharField(max_length=300, blank=True, default="")  # a name in default storage
    file_size = models.BigIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.title

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ScheduledReport(models.Model):
    class Frequency(models.TextChoices):
        DAILY = "daily", "Every day"
        WEEKLY = "weekly", "Every Monday"
        MONTHLY = "monthly", "On the 1st of each month"

    name = models.CharField(max_length=100)
    insight_ids = models.JSONField(default=list)
    format = models.CharField(max_length=10, choices=ReportFormat.choices, default=ReportFormat.PDF)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    hour = models.PositiveSmallIntegerField(default=8)  # local hour, in the tenant's time zone
    recipient_ids = models.JSONField(default=list)  # user ids of members
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    next_run_at = models.DateTimeField(db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class BiAccess(models.Model):
    """The tenant's read-only database role (at most one row)."""

    role_name = models.CharField(max_length=63, unique=True)
    password = EncryptedTextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.role_name
