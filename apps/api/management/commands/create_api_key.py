"""create_api_key SLUG NAME --scopes identity:read,audit:read [--as EMAIL] [--expires-days N]"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.api import scopes as scope_registry
from apps.core.management import HubCommand
from apps.identity.roles import has_permission
from apps.identity.selectors import member_list
from apps.tenancy.selectors import tenant_get

from ...services import api_key_create


class Command(HubCommand):
    help = "Creates an API key for a tenant and prints it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument("name", help="what the key is for")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"comma-separated, from: {', '.join(scope_registry.all_scopes())}",
        )
        parser.add_argument("--as", dest="as_email", help="the member the key acts as (default: the first owner)")
        parser.add_argument("--expires-days", type=int, help="the key stops working after this many days")

    def handle(self, *args, slug, name, scopes, as_email=None, expires_days=None, **options):
        tenant = tenant_get(slug=slug)
        if tenant is None:
            raise CommandError(f"No tenant with slug {slug!r}.")
        members = member_list(tenant=tenant)
        if as_email:
            actor = members.filter(user__email__iexact=as_email).first()
            if actor is None:
                raise CommandError(f"{as_email} is not a member of {slug}.")
        else:
            actor = members.filter(role="owner").order_by("created").first()
            if actor is None:
                raise CommandError(f"{slug} has no owner; pass --as EMAIL.")
        if not has_permission(actor.role, "api_keys.manage"):
            raise CommandError(f"{actor.user.email} is {actor.role}; only owners and admins may hold API keys.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be 1 or more.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        actor.tenant = tenant
        try:
            with schema_context(tenant.schema_name):
                key, raw = api_key_create(actor=actor, name=name, scopes=scopes, expires_at=expires_at)
        except ValidationError as exc:
            raise self.fail(exc) from None
        self.stdout.write(raw)
        self.stderr.write(
            f"Created key {key.prefix}… “{key.name}” for {slug} acting as {actor.user.email} ({actor.role}), "
            f"scopes {', '.join(key.scopes)}. Store it now: it is not shown again."
        )
