import re

from django.conf import settings
from django.core.exceptions import ValidationError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")


def validate_slug(value: str) -> str:
    """Returns the slug if it may name a new tenant, else raises ValidationError with the reason."""
    slug = (value or "").strip()
    if not SLUG_RE.match(slug):
        raise ValidationError(
            "Use 3 to 40 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
            code="invalid",
        )
    if slug in settings.RESERVED_TENANT_SLUGS:
        raise ValidationError(f"“{slug}” is reserved. Please choose another address.", code="reserved")
    from .models import Tenant

    if Tenant.objects.filter(slug=slug).exists():
        raise ValidationError(f"“{slug}” is already taken. Please choose another address.", code="taken")
    return slug


def schema_name_for(slug: str) -> str:
    return "t_" + slug.replace("-", "_")


def validate_time_zone(value: str) -> str:
    """Returns value if it names a time zone of the zoneinfo database, else raises ValidationError."""
    import zoneinfo

    if value not in zoneinfo.available_timezones():
        raise ValidationError("Choose a time zone from the list.", code="invalid")
    return value
