"""Re-encrypts every tenant's webhook signing secrets with the newest HUB_FIELD_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from apps.notifications.models import WebhookEndpoint
from apps.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Re-encrypt webhook signing secrets with the newest key of HUB_FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        total = 0
        for tenant in Tenant.objects.exclude(schema_name="public"):
            with tenant_context(tenant):
                for endpoint in WebhookEndpoint.objects.all():
                    # Reading decrypts with any configured key; saving encrypts with the newest.
                    endpoint.save(update_fields=["secret", "previous_secret"])
                    total += 1
        self.stdout.write(f"Re-encrypted the secrets of {total} webhook endpoint{'s' if total != 1 else ''}.")
