from django.conf import settings

from apps.core.management import HubCommand
from apps.identity.models import Membership, User
from apps.identity.roles import Role
from apps.identity.services import organisation_provision
from apps.tenancy.selectors import tenant_get
from apps.tenancy.services import tenant_url

DEMO = {"name": "Demo Organisation", "slug": "demo", "email": "owner@demo.localhost", "password": "demo-password-2026"}
STAFF = {"email": "admin@localhost", "password": "admin-password-2026"}


class Command(HubCommand):
    help = "Creates (once) the demo tenant with its owner and a platform operator, and prints how to log in."

    def handle(self, *args, **options):
        tenant = tenant_get(slug=DEMO["slug"])
        if tenant is None:
            tenant, owner = organisation_provision(
                name=DEMO["name"], slug=DEMO["slug"], owner_email=DEMO["email"], owner_password=DEMO["password"]
            )
            owner.full_name = "Demo Owner"
            owner.save(update_fields=["full_name"])
            self.stdout.write(self.style.SUCCESS("Seeded the demo organisation."))
        if not Membership.objects.filter(tenant=tenant, role=Role.OWNER).exists():
            self.stderr.write("The demo organisation has no owner; run `delete_tenant demo --yes` and seed again.")
        if not User.objects.filter(email=STAFF["email"]).exists():
            User.objects.create_superuser(email=STAFF["email"], password=STAFF["password"], full_name="Platform Admin")
        base = f"{settings.HUB_SCHEME}://{settings.HUB_BASE_DOMAIN}"
        self.stdout.write(
            "\n"
            f"  Demo dashboard:  {tenant_url(tenant)}\n"
            f"    email:         {DEMO['email']}\n"
            f"    password:      {DEMO['password']}\n"
            f"  Public site:     {base}/\n"
            f"  Platform admin:  {base}/admin/  ({STAFF['email']} / {STAFF['password']})\n"
        )
