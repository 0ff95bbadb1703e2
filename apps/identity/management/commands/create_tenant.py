import secrets

from django.core.exceptions import ValidationError

from apps.core.management import HubCommand
from apps.identity.models import User
from apps.identity.services import organisation_provision
from apps.tenancy.models import Tenant
from apps.tenancy.regions import region_label
from apps.tenancy.services import tenant_url


class Command(HubCommand):
    help = "Creates a tenant with its owner, all or nothing. A new owner gets a generated password."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The organisation's name, e.g. “Acme Inc”.")
        parser.add_argument("slug", help="Its address: <slug>.<base domain>.")
        parser.add_argument("owner_email", help="The owner's email; an existing account is reused.")
        parser.add_argument("--plan", default=Tenant.Plan.FREE, choices=Tenant.Plan.values)
        parser.add_argument("--password", help="Password for a new owner (default: generated and printed).")
        parser.add_argument(
            "--region",
            default="",
            help="Where its files and exports are kept (a key of HUB_REGIONS; default: HUB_DEFAULT_REGION).",
        )

    def handle(self, *args, name, slug, owner_email, plan, password, region, **options):
        is_new_owner = not User.objects.filter(email__iexact=owner_email.strip()).exists()
        password = password or (secrets.token_urlsafe(12) if is_new_owner else None)
        try:
            tenant, owner = organisation_provision(
                name=name, slug=slug, owner_email=owner_email, owner_password=password, plan=plan, region=region
            )
        except ValidationError as exc:
            raise self.fail(exc) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created {tenant.name} at {tenant_url(tenant)} (region: {region_label(tenant.region)})")
        )
        self.stdout.write(
            f"Owner: {owner.email}" + (f"  password: {password}" if is_new_owner else " (existing account)")
        )
