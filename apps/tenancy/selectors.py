from django.db.models import Count

from .models import Tenant


def tenant_list():
    """Every tenant but the public one, with its member count."""
    return Tenant.objects.exclude(schema_name="public").annotate(member_count=Count("memberships")).order_by("slug")


def tenant_get(*, slug: str) -> Tenant | None:
    return Tenant.objects.exclude(schema_name="public").filter(slug=slug).first()
