"""Celery tasks: thin, they call a service. A task runs in the schema of the tenant that sent it."""

from celery import shared_task

from apps.tenancy.selectors import task_to_every_tenant

from . import data_requests, report, retention, reviews, siem


@shared_task(ignore_result=True)
def siem_forward() -> int:
    """Sends the tenant's audit entries sealed since the last run to its SIEM."""
    return siem.siem_forward()


@shared_task(ignore_result=True)
def siem_forward_all_tenants() -> int:
    """Beat runs this in the public schema; it sends one forwarding run per active tenant."""
    return task_to_every_tenant(siem_forward)


@shared_task(ignore_result=True)
def retention_apply() -> int:
    """Applies the tenant's enabled retention policies."""
    from django.db import connection

    return retention.retention_apply_all(tenant=connection.tenant)


@shared_task(ignore_result=True)
def retention_apply_all_tenants() -> int:
    """Beat, every hour: one retention run per active tenant."""
    return task_to_every_tenant(retention_apply)


@shared_task(ignore_result=True)
def data_request_build(request_id: int) -> None:
    """Makes the copy of a person's data for an access or portability request."""
    from django.db import connection

    data_requests.data_request_build(request_id=request_id, tenant=connection.tenant)


@shared_task(ignore_result=True)
def data_requests_remind() -> int:
    from django.db import connection

    return data_requests.data_requests_remind(tenant=connection.tenant)


@shared_task(ignore_result=True)
def data_requests_remind_all_tenants() -> int:
    """Beat, every hour: reminders of requests due soon (each at most once a day)."""
    return task_to_every_tenant(data_requests_remind)


@shared_task(ignore_result=True)
def compliance_report_build(report_id: int) -> None:
    from django.db import connection

    report.report_build(report_id=report_id, tenant=connection.tenant)


@shared_task(ignore_result=True)
def compliance_daily() -> None:
    """This quarter's access review and last month's report, each made once; old copies deleted."""
    from django.db import connection

    reviews.reviews_open_due(tenant=connection.tenant)
    report.reports_monthly(tenant=connection.tenant)
    data_requests.copies_prune()


@shared_task(ignore_result=True)
def compliance_daily_all_tenants() -> int:
    return task_to_every_tenant(compliance_daily)
