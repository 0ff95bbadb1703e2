from django.db.models import Count

from .models import Tenant


def tenant_list():
    """Every tenant but the public one, with its member count."""
    return Tenant.objects.exclude(schema_name="public").annotate(member_count=Count("memberships")).order_by("slug")


def tenant_get(*, slug: str) -> Tenant | None:
    return Tenant.objects.exclude(schema_name="public").filter(slug=slug).first()


def tenant_growth(*, weeks: int = 8) -> list[dict]:
    """New tenants per week for the last `weeks` weeks, oldest first: [{"week": date, "count": n}]
    (Monday of each week; weeks without a new tenant count 0)."""
    from datetime import timedelta

    from django.db.models.functions import TruncWeek
    from django.utils import timezone

    this_monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    rows = (
        Tenant.objects.exclude(schema_name="public")
        .filter(created__date__gte=first)
        .annotate(week=TruncWeek("created"))
        .values("week")
        .annotate(count=Count("pk"))
    )
    counts = {row["week"].date(): row["count"] for row in rows}
    return [
        {"week": first + timedelta(weeks=i), "count": counts.get(first + timedelta(weeks=i), 0)} for i in range(weeks)
    ]


def task_to_every_tenant(task) -> int:
    """Sends the Celery `task` once in each active tenant's schema (beat's fan-out from the public
    schema); returns how many."""
    schemas = list(
        Tenant.objects.exclude(schema_name="public")
        .filter(status=Tenant.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        task.apply_async(headers={"_schema_name": schema})
    return len(schemas)
