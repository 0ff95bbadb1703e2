"""Collects every active tenant's usage of today (UTC) into UsageRecords: hourly (beat), and
yesterday's too in the first hour of a day, so its last hour is counted."""

from datetime import timedelta

from celery import shared_task
from django.db import transaction

from apps.tenancy.models import Tenant

from . import quotas
from .services import usage_collect


@shared_task(name="billing.usage_collect")
def usage_collect_all() -> int:
    today = quotas.today()
    days = [today - timedelta(days=1), today] if quotas.now_hour() == 0 else [today]
    collected = 0
    for tenant in Tenant.objects.exclude(schema_name="public").filter(status=Tenant.Status.ACTIVE):
        for day in days:
            with transaction.atomic():
                usage_collect(tenant=tenant, day=day)
            collected += 1
    return collected
