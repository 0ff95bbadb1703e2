"""Analytics' tables, in the tenant's schema.

- ProjectKey: the write-only key a web page or a server sends events with.
- Person and PersonDistinctId: the people behind the events; several distinct ids (an anonymous
  browser id, a user id) can point at one person once identified or aliased.
- EventUuid: every event uuid seen, for idempotent writes (see storage.py for why a table).
- Event: the events themselves, in a table partitioned by month. Its table is made and kept by
  storage.py (CREATE TABLE … PARTITION BY RANGE), not by a migration, hence managed = False.
"""

import uuid

from django.conf import settings
from django.db import models

KEY_PREFIX = "phc_"  # PostHog's prefix for project keys: what its SDKs' users expect to paste


class ProjectKey(models.Model):
    """A capture key. It can only send events, so it may be shipped inside a web page. Only a
    SHA-256 hash of the secret is kept; the prefix (shown in the dashboard) finds the row."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    # Origins a browser may send events from ("https://www.example.com"); "*" allows any.
    allowed_origins = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at else "active"


class Person(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    properties = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return str(self.uuid)


class PersonDistinctId(models.Model):
    distinct_id = models.CharField(max_length=200, unique=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="distinct_ids")

    def __str__(self):
        return self.distinct_id


class EventUuid(models.Model):
    """An event uuid already written. Kept while an event of its time could still be accepted
    (HUB_ANALYTICS_MAX_AGE_DAYS); older rows are pruned."""

    uuid = models.UUIDField(primary_key=True)
    timestamp = models.DateTimeField(db_index=True)

    def __str__(self):
        return str(self.uuid)


class Event(models.Model):
    """One captured event. The table is partitioned by month on `timestamp`, so its primary key
    (timestamp, uuid) includes the partition key, as PostgreSQL requires."""

    pk = models.CompositePrimaryKey("timestamp", "uuid")
    timestamp = models.DateTimeField()
    uuid = models.UUIDField()
    event = models.CharField(max_length=200)
    distinct_id = models.CharField(max_length=200)
    properties = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "analytics_event"

    def __str__(self):
        return f"{self.event} by {self.distinct_id}"


class Insight(models.Model):
    """A saved query (its JSON in `query`, see queries/shapes.py), built by members."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    query = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.name


# Reports, exports, scheduled reports and the BI role: their own module (models_reports.py).
from .models_reports import BiAccess, ReportJob, ScheduledReport  # noqa: E402, F401
