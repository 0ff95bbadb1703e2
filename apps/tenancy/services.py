"""Writes on tenants. Provisioning with an owner lives in apps.identity.services
(organisation_provision), which calls tenant_create inside its own transaction."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context

from apps.core.events import publish
from apps.core.images import image_store, image_validate

from .models import Domain, Tenant
from .regions import region_check, region_forget
from .schemas import schema_create
from .validators import schema_name_for, validate_slug, validate_time_zone


def tenant_create(*, name: str, slug: str, plan: str = Tenant.Plan.FREE, region: str = "") -> Tenant:
    """Creates the tenant row, its schema (all tenant migrations) and its primary domain.

    All or nothing: PostgreSQL's DDL is transactional, so a failure anywhere leaves no schema,
    no tenant row and no domain behind.
    """
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Please give the organisation a name."]
    elif len(name) > 100:
        errors["name"] = ["Use at most 100 characters."]
    try:
        slug = validate_slug(slug)
    except ValidationError as exc:
        errors["slug"] = exc.messages
    if plan not in Tenant.Plan.values:
        errors["plan"] = [f"Choose one of: {', '.join(Tenant.Plan.values)}."]
    try:
        region = region_check(region)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    try:
        with schema_context("public"), transaction.atomic():
            tenant = Tenant(name=name, slug=slug, plan=plan, region=region, schema_name=schema_name_for(slug))
            tenant.save()
            region_forget(tenant.schema_name)
            schema_create(tenant.schema_name)
            Domain.objects.create(domain=f"{slug}.{settings.HUB_BASE_HOSTNAME}", tenant=tenant, is_primary=True)
    except (IntegrityError, ValidationError):  # Someone took the slug between the check and the insert.
        raise ValidationError({"slug": [f"“{slug}” is already taken. Please choose another address."]}) from None
    return tenant


# Updates run in the caller's schema, so the audit entry lands in the log of whoever made the
# change: the tenant's own log when served on its domain, the public one for operators.


def tenant_set_status(*, tenant: Tenant, status: str) -> Tenant:
    if status not in Tenant.Status.values:
        raise ValidationError({"status": [f"Choose one of: {', '.join(Tenant.Status.values)}."]})
    tenant.status = status
    tenant.save(update_fields=["status"])
    return tenant


def tenant_rename(*, tenant: Tenant, name: str, actor=None) -> Tenant:
    return tenant_settings_update(tenant=tenant, name=name, actor=actor)


def tenant_settings_update(
    *, tenant: Tenant, name: str, time_zone: str | None = None, logo=None, remove_logo: bool = False, actor=None
) -> Tenant:
    """Changes the organisation's name and, when given, its default time zone and logo (an uploaded
    picture, or remove_logo); publishes what changed."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Please give the organisation a name."]
    for field, check, value in (("time_zone", validate_time_zone, time_zone), ("logo", image_validate, logo)):
        if value is not None:
            try:
                check(value)
            except ValidationError as exc:
                errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)

    changes, old_logo = {}, tenant.logo.name
    if name[:100] != tenant.name:
        changes["name"] = {"old": tenant.name, "new": name[:100]}
        tenant.name = name[:100]
    if time_zone is not None and time_zone != tenant.time_zone:
        changes["time_zone"] = {"old": tenant.time_zone, "new": time_zone}
        tenant.time_zone = time_zone
    with transaction.atomic():
        image_store(tenant.logo, upload=logo, remove=remove_logo)
        if tenant.logo.name != old_logo:
            changes["logo"] = {"old": bool(old_logo), "new": bool(tenant.logo.name)}
        tenant.save(update_fields=["name", "time_zone", "logo"])
        if changes:
            publish("organisation.settings_changed", {"changes": changes}, tenant=tenant, actor=actor)
    return tenant


def tenant_delete(*, tenant: Tenant) -> None:
    """Drops the tenant's schema and deletes its row, domains and memberships, in one transaction."""
    if tenant.is_public:
        raise ValidationError("The public schema cannot be deleted.")
    with schema_context("public"), transaction.atomic():
        with connection.cursor() as cursor:
            # Fire deferred constraint checks now: DROP SCHEMA refuses tables with pending ones.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        tenant.delete(force_drop=True)


def tenant_url(tenant: Tenant, path: str = "/") -> str:
    return f"{settings.HUB_SCHEME}://{tenant.slug}.{settings.HUB_BASE_DOMAIN}{path}"


def public_url(path: str = "/") -> str:
    """An address on the public site (the bare base domain)."""
    return f"{settings.HUB_SCHEME}://{settings.HUB_BASE_DOMAIN}{path}"
